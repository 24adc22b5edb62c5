/**
 * The master pidfile and its lock.
 *
 * Owns: `acquirePidfile`, `releasePidfile`. Node has no flock(2), so the lock is the file's
 * existence, made atomic with link(2): we write `<pid>\n` to a private temp file and hard-link it
 * to the pidfile name, which fails if the name exists. An existing pidfile whose pid is not alive
 * (or is now some other program: checked in /proc/<pid>/cmdline) is stale, e.g. left by a master
 * killed with SIGKILL; it is removed and the lock taken. A live one makes us refuse:
 * "another cyr_master (pid N) is running on <pidfile>".
 *
 * Imports: node built-ins.
 */
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export class PidfileError extends Error {}

function readPid(path: string): number | null {
  try {
    const n = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Is `pid` a live process that looks like a master (a recycled pid of another program is not)? */
export function isLiveMaster(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /master/.test(cmdline);
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

/** Take the pidfile or throw PidfileError. */
export function acquirePidfile(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  for (let attempt = 0; attempt < 5; attempt++) {
    writeFileSync(tmp, `${process.pid}\n`, { mode: 0o644 });
    try {
      linkSync(tmp, path);
      unlinkSync(tmp);
      return;
    } catch (err) {
      unlinkSync(tmp);
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new PidfileError(`cannot create pidfile ${path}: ${(err as Error).message}`);
      }
    }
    const pid = readPid(path);
    if (pid === process.pid) return;
    if (pid !== null && isLiveMaster(pid))
      throw new PidfileError(`another cyr_master (pid ${pid}) is running on ${path}`);
    if (pid === null && attempt === 0) {
      // a master writing its pidfile right now links a complete file, so an empty or garbled
      // file is stale; but give a racing writer one moment anyway
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      continue;
    }
    try {
      unlinkSync(path);
    } catch {
      /* someone else removed it */
    }
  }
  throw new PidfileError(`cannot take pidfile ${path}: it keeps changing`);
}

/** Remove the pidfile if it is still ours. */
export function releasePidfile(path: string): void {
  if (readPid(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* gone */
  }
}
