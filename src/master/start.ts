/**
 * START: the programs that run to completion before anything else.
 *
 * Owns: `runStart`. Entries run one at a time in file order, each waited for; a non-zero exit
 * or a death by signal stops master ("can't run startup"). START is not re-run on SIGHUP.
 *
 * Imports: node built-ins, src/config types, src/log, ./program, ./supervise.
 */
import type { StartEntry } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import { resolveProgram, spawnProgram } from './program.js';
import { describeExit, killGroup } from './supervise.js';

export class StartError extends Error {}

/**
 * Run every START entry in order; throws StartError naming the entry and its status. When
 * `signal` aborts (master got SIGTERM), the running entry is terminated and no further one runs.
 */
export async function runStart(
  entries: StartEntry[],
  log: Logger,
  output: 'inherit' | number,
  signal?: AbortSignal,
): Promise<void> {
  for (const entry of entries) {
    if (signal?.aborted) return;
    const prog = resolveProgram(entry.cmd[0] ?? '');
    if (prog.kind !== 'tool' && prog.kind !== 'external') {
      const why = prog.kind === 'missing' ? 'not found' : `is a built-in ${prog.kind}`;
      throw new StartError(`can't run startup ${entry.name}: ${entry.cmd[0]} ${why}`);
    }
    log.info(`START ${entry.name}: about to run ${entry.cmd.join(' ')}`);
    const started = Date.now();
    const child = spawnProgram(prog, entry.cmd.slice(1), {
      env: { ...process.env, CYRUS_SERVICE: entry.name },
      stdio: ['ignore', output, output],
    });
    const onAbort = (): void => killGroup(child.pid, 'SIGTERM');
    signal?.addEventListener('abort', onAbort);
    const { code, sig } = await new Promise<{ code: number | null; sig: NodeJS.Signals | null }>(
      (resolve) => {
        child.once('error', () => resolve({ code: 71, sig: null }));
        child.once('exit', (c, s) => resolve({ code: c, sig: s }));
      },
    );
    signal?.removeEventListener('abort', onAbort);
    if (signal?.aborted) {
      log.notice(`START ${entry.name} interrupted by shutdown`);
      return;
    }
    const age = ((Date.now() - started) / 1000).toFixed(3);
    const line = `process type:START name:${entry.name} path:${entry.cmd[0]} age:${age}s pid:${child.pid ?? '?'} ${describeExit(code, sig)}`;
    if (code !== 0 || sig) {
      log.error(line);
      throw new StartError(`can't run startup ${entry.name}: ${describeExit(code, sig)}`);
    }
    log.info(line);
  }
}
