/**
 * loadConfigForTool for tools whose main() returns an exit code instead of exiting (so tests
 * can call main in-process): a configuration or usage error becomes that exit code.
 *
 * Imports: src/config/tool.
 */
import { loadConfigForTool } from '../config/tool.js';
import type { LoadedImapdConf } from '../config/imapd-conf.js';

class ToolExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function loadToolConf(
  argv: string[],
  tool: string,
  stderr: (t: string) => void,
): { conf: LoadedImapdConf; rest: string[] } | number {
  try {
    return loadConfigForTool(argv, tool, {
      stderr,
      exit: (c: number): never => {
        throw new ToolExit(c);
      },
    });
  } catch (e) {
    if (e instanceof ToolExit) return e.code;
    throw e;
  }
}
