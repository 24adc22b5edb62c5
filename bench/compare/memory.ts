/**
 * Memory of a whole server as PSS (proportional set size): shared pages are divided among
 * the processes that map them, so a forking server (Cyrus: a process per connection;
 * Dovecot: one imap process per connection) is not charged its shared libraries once per
 * process, as summing RSS does.
 *
 * Owns: `serverRoot(port)` (the pid listening on the port, walked up to our own child),
 * `treePssKiB(pid)` (the sum of Pss over that process and its descendants).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

function ppidOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
}

/** The process we started that owns the socket listening on 127.0.0.1:port, or null. */
export function serverRoot(port: number): number | null {
  const out = spawnSync('ss', ['-Hltnp', `sport = :${port}`], { encoding: 'utf8' }).stdout ?? '';
  const m = /pid=(\d+)/.exec(out);
  if (!m) return null;
  let pid = Number(m[1]);
  for (let guard = 0; guard < 32; guard++) {
    const pp = ppidOf(pid);
    if (pp === process.pid) return pid;
    if (pp <= 1) return null;
    pid = pp;
  }
  return null;
}

export function treePssKiB(root: number): number {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pp = ppidOf(Number(d));
    const list = children.get(pp) ?? [];
    list.push(Number(d));
    children.set(pp, list);
  }
  let total = 0;
  const stack = [root];
  const seen = new Set<number>();
  while (stack.length) {
    const pid = stack.pop()!;
    if (seen.has(pid)) continue;
    seen.add(pid);
    try {
      const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1'));
      if (m) total += Number(m[1]);
    } catch {
      /* gone */
    }
    stack.push(...(children.get(pid) ?? []));
  }
  return total;
}
