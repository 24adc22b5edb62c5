/**
 * Proc files: one small file per open connection saying who is connected where, for
 * `cyr_info proc` (and administrators with `cat`).
 *
 * Owns: `openProcEntry` and the file format. Cyrus writes `<proc_path>/<pid>`, one per process,
 * because a Cyrus process serves one connection at a time. Our workers serve many connections
 * each, so the file name is `<pid>.<n>` (n counts the worker's connections from 1); a reader
 * takes the pid as the part before the first dot. The content is Cyrus's one line:
 *   `service\thost\tuser\tmailbox\tcommand\n`   (unknown fields are empty)
 * Files are written synchronously (they are tiny and proc_path is usually tmpfs) and removed when
 * the session ends; master removes the leftovers of a worker that died (`removeProcEntriesOf`).
 * An update rewrites the file in place (open, pwrite at 0, close) and never truncates it: on
 * ext4 a truncate-and-rewrite (writeFileSync) makes close() flush the data (auto_da_alloc),
 * which cost ~0.15 ms per LMTP command next to the deliveries' fsyncs. A shorter line is
 * padded with spaces before its newline; readers trim them.
 *
 * A service finds the entry of its connection with `procEntryOf(socket)` (the socket `serve`
 * was given) and records the user, mailbox and command as the session goes on.
 *
 * Imports: node built-ins only.
 */
import { closeSync, mkdirSync, openSync, readdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';

export interface ProcEntry {
  /** the file path */
  readonly path: string;
  /** Record what the session is doing now; omitted fields keep their previous value. */
  update(fields: { user?: string; mailbox?: string; command?: string }): void;
  /** Delete the file (idempotent). */
  remove(): void;
}

let counter = 0;
const madeDirs = new Set<string>();

function clean(s: string): string {
  // a tab or line break in a field would break the one-line format
  return s.replace(/[\t\r\n]+/g, ' ');
}

/** Create the proc file of one connection. Never throws: a proc file is informational. */
export function openProcEntry(procDir: string, who: { service: string; host: string }): ProcEntry {
  counter += 1;
  const path = join(procDir, `${process.pid}.${counter}`);
  const state = { user: '', mailbox: '', command: '' };
  let removed = false;
  /** bytes in the file: later lines are padded to at least this */
  let size = 0;
  const write = (): void => {
    if (removed) return;
    let line = [who.service, who.host, state.user, state.mailbox, state.command].map(clean).join('\t');
    const bytes = Buffer.byteLength(line) + 1;
    if (bytes < size) line += ' '.repeat(size - bytes);
    line += '\n';
    try {
      if (size === 0) writeFileSync(path, line);
      else {
        const fd = openSync(path, 'r+');
        try {
          writeSync(fd, line, 0);
        } finally {
          closeSync(fd);
        }
      }
      size = Math.max(size, Buffer.byteLength(line));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return;
      // the file (removed from a cleaned proc_path) or its directory is gone: create again
      try {
        if (!madeDirs.has(procDir)) {
          madeDirs.add(procDir);
          mkdirSync(procDir, { recursive: true });
        }
        writeFileSync(path, line);
        size = Buffer.byteLength(line);
      } catch {
        /* informational only */
      }
    }
  };
  write();
  return {
    path,
    update(fields) {
      // a rewrite costs an open/write/close per command: skip it when nothing changed
      let changed = false;
      for (const k of ['user', 'mailbox', 'command'] as const) {
        const v = fields[k];
        if (v !== undefined && v !== state[k]) {
          state[k] = v;
          changed = true;
        }
      }
      if (changed) write();
    },
    remove() {
      if (removed) return;
      removed = true;
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    },
  };
}

const bySocket = new WeakMap<Socket, ProcEntry>();

/** The worker links a connection's socket to its proc entry (see procEntryOf). */
export function attachProcEntry(socket: Socket, entry: ProcEntry): void {
  bySocket.set(socket, entry);
}

/**
 * The proc entry of a connection served under cyr_master, for `update({user, mailbox, command})`;
 * undefined when not run by master (tests with serveForTest).
 */
export function procEntryOf(socket: Socket): ProcEntry | undefined {
  return bySocket.get(socket);
}

/** One parsed proc file. */
export interface ProcRecord {
  pid: number;
  file: string;
  service: string;
  host: string;
  user: string;
  mailbox: string;
  command: string;
}

/** Parse the content of a proc file named `file` (`<pid>` or `<pid>.<n>`); null if malformed. */
export function parseProcFile(file: string, content: string): ProcRecord | null {
  const m = /^(\d+)(?:\.\d+)?$/.exec(file);
  if (!m) return null;
  // the first line; an in-place rewrite pads a shorter line with spaces
  const [service = '', host = '', user = '', mailbox = '', command = ''] = content
    .split('\n')[0]!
    .trimEnd()
    .split('\t');
  return { pid: Number(m[1]), file, service, host, user, mailbox, command };
}

/** Remove every proc file of process `pid` (a worker that died without cleaning up). */
export function removeProcEntriesOf(procDir: string, pid: number): void {
  let names: string[];
  try {
    names = readdirSync(procDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name === String(pid) || name.startsWith(`${pid}.`)) {
      try {
        unlinkSync(join(procDir, name));
      } catch {
        /* raced */
      }
    }
  }
}
