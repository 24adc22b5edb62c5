/**
 * Shared bookkeeping for supervised children: exit descriptions, fork-rate limits and the
 * crash back-off.
 *
 * Owns: `describeExit`, `ForkRate`, `CrashWindow`, `killGroup`. A service or daemon whose child
 * fails 5 times within 10 s is backed off for a pause and then retried (Cyrus 3.12 behaviour;
 * 3.6 disabled it until SIGHUP). The pause is 10 s; `CYRUS_TS_BACKOFF_MS` shortens it (a testing
 * aid).
 *
 * Imports: node built-ins.
 */
import { constants } from 'node:os';

export const FAILURE_LIMIT = 5;
export const FAILURE_WINDOW_MS = 10_000;

export function backoffMs(): number {
  const v = Number(process.env.CYRUS_TS_BACKOFF_MS);
  return Number.isFinite(v) && v > 0 ? v : 10_000;
}

const SIGNAL_NUMBERS = constants.signals as Record<string, number>;

/** `status 3`, `signal 9 (SIGKILL)` */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `signaled to death by signal ${SIGNAL_NUMBERS[signal] ?? '?'} (${signal})`;
  return `exited, status ${code ?? '?'}`;
}

/** Exit status 0 is normal, 75 (EX_TEMPFAIL) is "was killed"; anything else is a failure. */
export function isFailure(code: number | null, signal: NodeJS.Signals | null): boolean {
  if (signal) return true;
  return code !== 0 && code !== 75;
}

/** At most `perSecond` forks in any second (0 = unlimited). */
export class ForkRate {
  private readonly times: number[] = [];
  constructor(private readonly perSecond: number) {}
  allow(now: number): boolean {
    if (this.perSecond <= 0) return true;
    while (this.times.length && now - this.times[0]! >= 1000) this.times.shift();
    return this.times.length < this.perSecond;
  }
  record(now: number): void {
    this.times.push(now);
  }
}

/** Counts failures in a sliding window; says when to back off and until when. */
export class CrashWindow {
  private failures: number[] = [];
  backoffUntil = 0;
  /** Record one failure; true when this one starts a back-off. */
  fail(now: number): boolean {
    this.failures = this.failures.filter((t) => now - t < FAILURE_WINDOW_MS);
    this.failures.push(now);
    if (this.failures.length >= FAILURE_LIMIT) {
      this.failures = [];
      this.backoffUntil = now + backoffMs();
      return true;
    }
    return false;
  }
  inBackoff(now: number): boolean {
    return now < this.backoffUntil;
  }
  reset(): void {
    this.failures = [];
    this.backoffUntil = 0;
  }
}

/** Signal a child's whole process group (children are started detached), else the child. */
export function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      /* gone */
    }
  }
}
