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
import { describeExit } from './supervise.js';

export class StartError extends Error {}

/** Run every START entry in order; throws StartError naming the entry and its status. */
export async function runStart(
  entries: StartEntry[],
  log: Logger,
  output: 'inherit' | number,
): Promise<void> {
  for (const entry of entries) {
    const prog = resolveProgram(entry.cmd[0] ?? '');
    if (prog.kind !== 'tool' && prog.kind !== 'external') {
      throw new StartError(
        `can't run startup ${entry.name}: ${entry.cmd[0]} ${prog.kind === 'missing' ? 'not found' : `is a built-in ${prog.kind}`}`,
      );
    }
    log.info(`START ${entry.name}: about to run ${entry.cmd.join(' ')}`);
    const started = Date.now();
    const child = spawnProgram(prog, entry.cmd.slice(1), {
      env: { ...process.env, CYRUS_SERVICE: entry.name },
      stdio: ['ignore', output, output],
    });
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve) => {
        child.once('error', () => resolve({ code: 71, signal: null }));
        child.once('exit', (c, s) => resolve({ code: c, signal: s }));
      },
    );
    const age = ((Date.now() - started) / 1000).toFixed(3);
    const line = `process type:START name:${entry.name} path:${entry.cmd[0]} age:${age}s pid:${child.pid ?? '?'} ${describeExit(code, signal)}`;
    if (code !== 0 || signal) {
      log.error(line);
      throw new StartError(`can't run startup ${entry.name}: ${describeExit(code, signal)}`);
    }
    log.info(line);
  }
}
