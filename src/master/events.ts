/**
 * EVENTS: scheduled commands.
 *
 * Owns: `EventScheduler`. Scheduling follows Cyrus 3.6: an entry with `period` and no `at` runs
 * when the configuration is (re)loaded and then every `period` minutes from its previous launch;
 * an entry with neither runs once at load; a valid `at=HHMM` runs daily at that local time (the
 * next occurrence is recomputed from the wall clock after every run, so DST shifts are followed).
 * Our deliberate difference: a run that is still going is never started a second time (the due
 * run is skipped and logged), and runs missed while master was busy are not piled up.
 *
 * Testing aid: `CYRUS_TS_EVENT_MINUTE_MS` sets how long one `period` minute lasts (default 60000;
 * e.g. 200 makes `period=1` fire every 200 ms). `at=` always uses the real clock.
 *
 * Imports: node built-ins, src/config types, src/log, ./program, ./supervise.
 */
import type { ChildProcess } from 'node:child_process';
import type { EventEntry } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import { resolveProgram, spawnProgram } from './program.js';
import { describeExit, isFailure, killGroup } from './supervise.js';

export function minuteMs(): number {
  const v = Number(process.env.CYRUS_TS_EVENT_MINUTE_MS);
  return Number.isFinite(v) && v > 0 ? v : 60_000;
}

/** Valid HHMM (0000-2359) or null. */
function validAt(at: number | null): { h: number; m: number } | null {
  if (at === null || at < 0) return null;
  const h = Math.floor(at / 100);
  const m = at % 100;
  return h <= 23 && m <= 59 ? { h, m } : null;
}

/** The next local time h:m strictly after `now`. */
export function nextAt(now: number, h: number, m: number): number {
  const d = new Date(now);
  d.setHours(h, m, 0, 0);
  if (d.getTime() <= now) {
    d.setDate(d.getDate() + 1);
    d.setHours(h, m, 0, 0);
  }
  return d.getTime();
}

interface Scheduled {
  entry: EventEntry;
  /** ms timestamp of the next run, or null (ran once, done) */
  next: number | null;
  running: ChildProcess | null;
}

export interface EventContext {
  log: Logger;
  output: 'inherit' | number;
}

export class EventScheduler {
  private items: Scheduled[] = [];
  private stopped = false;

  constructor(private readonly ctx: EventContext) {}

  /** Replace all events (load and SIGHUP). Running processes of old events are left to finish. */
  load(entries: EventEntry[], now = Date.now()): void {
    const running = new Map(this.items.filter((i) => i.running).map((i) => [i.entry.name, i.running]));
    this.items = entries.map((entry) => {
      const at = validAt(entry.at);
      const next = at ? nextAt(now, at.h, at.m) : now;
      return { entry, next, running: running.get(entry.name) ?? null };
    });
  }

  /** Run what is due. */
  tick(now = Date.now()): void {
    if (this.stopped) return;
    for (const item of this.items) {
      if (item.next === null || now < item.next) continue;
      const at = validAt(item.entry.at);
      const period = item.entry.period * minuteMs();
      if (at) item.next = nextAt(now, at.h, at.m);
      else if (item.entry.period > 0) item.next = now + period;
      else item.next = null;
      if (item.running) {
        this.ctx.log.notice(
          `event ${item.entry.name}: previous run (pid ${item.running.pid ?? '?'}) still running, not started again`,
        );
        continue;
      }
      this.run(item);
    }
  }

  private run(item: Scheduled): void {
    const { entry } = item;
    const prog = resolveProgram(entry.cmd[0] ?? '');
    if (prog.kind !== 'tool' && prog.kind !== 'external') {
      this.ctx.log.error(
        `event ${entry.name}: cannot run ${entry.cmd[0]} (${prog.kind === 'missing' ? 'not found' : `a built-in ${prog.kind}`})`,
      );
      return;
    }
    const started = Date.now();
    let child: ChildProcess;
    try {
      child = spawnProgram(prog, entry.cmd.slice(1), {
        env: { ...process.env, CYRUS_SERVICE: entry.name },
        stdio: ['ignore', this.ctx.output, this.ctx.output],
      });
    } catch (err) {
      this.ctx.log.error(`event ${entry.name}: cannot run ${entry.cmd[0]}: ${String(err)}`);
      return;
    }
    item.running = child;
    this.ctx.log.info(`event ${entry.name}: about to run ${entry.cmd.join(' ')} (pid ${child.pid ?? '?'})`);
    child.on('error', (err) => this.ctx.log.error(`event ${entry.name}: ${err.message}`));
    child.on('exit', (code, signal) => {
      if (item.running === child) item.running = null;
      for (const i of this.items) if (i.running === child) i.running = null;
      const age = ((Date.now() - started) / 1000).toFixed(3);
      const line = `process type:EVENT name:${entry.name} path:${entry.cmd[0]} age:${age}s pid:${child.pid ?? '?'} ${describeExit(code, signal)}`;
      if (isFailure(code, signal)) this.ctx.log.error(line);
      else this.ctx.log.info(line);
    });
  }

  /** When the next event is due (ms timestamp), or null. */
  nextWake(): number | null {
    let min: number | null = null;
    for (const i of this.items) if (i.next !== null && (min === null || i.next < min)) min = i.next;
    return min;
  }

  /** Stop scheduling and terminate running events (bounded wait, then SIGKILL). */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    const running = this.items.map((i) => i.running).filter((c): c is ChildProcess => c !== null);
    await Promise.all(
      running.map(async (c) => {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((r) => c.once('exit', () => r()));
        killGroup(c.pid, 'SIGTERM');
        let t: NodeJS.Timeout | undefined;
        const ok = await Promise.race([
          exited.then(() => true),
          new Promise<boolean>((r) => (t = setTimeout(() => r(false), graceMs))),
        ]);
        clearTimeout(t);
        if (!ok) {
          killGroup(c.pid, 'SIGKILL');
          await exited;
        }
      }),
    );
  }

  kill(): void {
    this.stopped = true;
    for (const i of this.items) killGroup(i.running?.pid, 'SIGKILL');
  }

  pids(): number[] {
    return this.items.map((i) => i.running?.pid).filter((p): p is number => p !== undefined);
  }
}
