/**
 * Process trees from /proc (Linux): who descends from a pid, and waiting until they are gone.
 *
 * Owns: `descendants` (the pids below a pid, each with its start time so a recycled pid is not
 * mistaken for ours) and `waitGone` (poll until none of them is alive; SIGKILL the survivors of
 * a timeout — they are processes our test started — and return them).
 *
 * Imports: node built-ins.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcId {
  pid: number;
  /** field 22 of /proc/<pid>/stat (start time in clock ticks) */
  start: string;
}

/** ppid and start time of a pid, or null when it does not exist (or is a zombie: state Z). */
function stat(pid: number): { ppid: number; start: string; zombie: boolean } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ..." — comm may contain spaces and parentheses: split after the last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { ppid: Number(rest[1]), start: rest[19] ?? '', zombie: rest[0] === 'Z' };
}

/** pid itself and every process below it (breadth-first). */
export function descendants(root: number): ProcId[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push(Number(name));
    children.set(s.ppid, list);
  }
  const out: ProcId[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const s = stat(pid);
    if (s) out.push({ pid, start: s.start });
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

export function alive(p: ProcId): boolean {
  const s = stat(p.pid);
  return s !== null && !s.zombie && s.start === p.start;
}

/** Wait until none of `procs` is alive; after timeoutMs SIGKILL and return the survivors. */
export async function waitGone(procs: ProcId[], timeoutMs: number): Promise<ProcId[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = procs.filter(alive);
    if (left.length === 0) return [];
    if (Date.now() > deadline) {
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      return left;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
