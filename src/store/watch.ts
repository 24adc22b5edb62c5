/**
 * Cross-process change notification by stamp files.
 *
 * Owns: `touchStamp` (called after every commit that changes a mailbox) and `watchStamp`
 * (fs.watch on the stamp; inotify wakes a watcher in another process within milliseconds).
 * Stamps are rewritten in place, never replaced, so the watched inode stays the same. Where
 * fs.watch is unavailable (some network file systems) it falls back to polling every 100 ms.
 * Imports: node built-ins.
 */
import {
  closeSync,
  mkdirSync,
  openSync,
  watch,
  watchFile,
  unwatchFile,
  writeSync,
  existsSync,
} from 'node:fs';
import { dirname } from 'node:path';

const POLL_MS = 100;

function ensure(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(dirname(path), { recursive: true });
  closeSync(openSync(path, 'a'));
}

/** record a change: rewrite the stamp in place (best effort: a failure only delays wake-ups) */
export function touchStamp(path: string): void {
  try {
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch {
      // first change of this mailbox (or the lock directory was cleared): create the stamp
      ensure(path);
      fd = openSync(path, 'r+');
    }
    try {
      writeSync(fd, `${Date.now()} ${process.pid}\n`, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* the lock directory may be gone (tmpfs after reboot) and will be recreated next time */
  }
}

/** call `cb` whenever the stamp changes; returns an unsubscribe function. Handles do not keep the process alive. */
export function watchStamp(path: string, cb: () => void): () => void {
  ensure(path);
  try {
    const w = watch(path, { persistent: false }, () => cb());
    w.on('error', () => undefined);
    return () => w.close();
  } catch {
    const listener = (cur: { mtimeMs: number }, prev: { mtimeMs: number }): void => {
      if (cur.mtimeMs !== prev.mtimeMs) cb();
    };
    watchFile(path, { interval: POLL_MS, persistent: false }, listener);
    return () => unwatchFile(path, listener);
  }
}
