/**
 * The POP3 maildrop lock (RFC 1939 8: "the POP3 server acquires an exclusive-access lock on
 * the maildrop"): while one POP session holds a mailbox, a second POP login to it gets
 * `-ERR [IN-USE]` (RFC 2449 8.1.2), within this process and across processes.
 *
 * Owns: `<mboxname_lockpath>/pop3/<hex of the internal name>.lock`, created with O_EXCL and
 * holding the owner's pid. A lock file whose pid is not alive, or that names our own pid but
 * is not in this process's table (left over from a previous process with the same pid), is
 * stale and is taken over: renamed away atomically first, so two processes cannot both take
 * it. Files live on ephemeral storage (ARCHITECTURE decision 4): the directory is created
 * on demand.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const held = new Set<string>();

export class PopLock {
  private constructor(readonly path: string) {}

  /** Take the lock for `mailbox`, or null when another POP session holds it. */
  static acquire(lockDir: string, mailbox: string): PopLock | null {
    const dir = join(lockDir, 'pop3');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${Buffer.from(mailbox, 'utf8').toString('hex')}.lock`);
    if (held.has(path)) return null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        held.add(path);
        return new PopLock(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (!isStale(path)) return null;
      try {
        const aside = `${path}.stale.${process.pid}.${attempt}`;
        renameSync(path, aside);
        rmSync(aside, { force: true });
      } catch {
        /* someone else took it over first: try again */
      }
    }
    return null;
  }

  release(): void {
    if (!held.delete(this.path)) return;
    try {
      const pid = Number(readFileSync(this.path, 'utf8').trim());
      if (pid === process.pid) rmSync(this.path, { force: true });
    } catch {
      /* already gone */
    }
  }
}

function isStale(path: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(path, 'utf8').trim());
  } catch {
    return false; // vanished or unreadable: let the next attempt decide
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return !held.has(path);
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
