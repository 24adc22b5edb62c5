/**
 * Configuration loading for command-line tools: `-C <imapd.conf>`, service identity, clean exits.
 *
 * Owns: the `-C` convention shared by every `cyr_*` program and the exit codes of sysexits.h.
 *
 * Use in a tool's `main(argv)`:
 *   const { conf, rest } = loadConfigForTool(argv, 'cyr_ctl_cyrusdb');
 *   // rest = argv without `-C file`; conf.service = 'ctl_cyrusdb'
 * On a configuration problem it prints `<tool>: <message>` (file, line, key; never a stack
 * trace) to stderr and exits 78 (EX_CONFIG). `-C` without a file exits 64 (EX_USAGE).
 * The identity for `<service>_<option>` overrides is `$CYRUS_SERVICE` when master started us,
 * else the Cyrus program name (`cyr_ctl_cyrusdb` ⇒ `ctl_cyrusdb`, `cyr_expire` stays).
 *
 * Imports: api.ts, imapd-conf.ts.
 */
import { ConfigError } from './api.js';
import { defaultImapdConfPath, loadImapdConf, type LoadedImapdConf } from './imapd-conf.js';

export const EX_OK = 0;
export const EX_USAGE = 64;
export const EX_DATAERR = 65;
export const EX_NOINPUT = 66;
export const EX_SOFTWARE = 70;
export const EX_OSERR = 71;
export const EX_IOERR = 74;
export const EX_TEMPFAIL = 75;
export const EX_CONFIG = 78;

/** Cyrus programs whose own name already starts with `cyr_`. */
const CYRUS_CYR_NAMES = new Set([
  'cyr_expire',
  'cyr_info',
  'cyr_dbtool',
  'cyr_deny',
  'cyr_df',
  'cyr_ls',
  'cyr_synclog',
  'cyr_userseen',
  'cyr_virusscan',
  'cyr_buildinfo',
  'cyr_backup',
]);

/** The Cyrus identity of one of our programs: `cyr_ctl_cyrusdb` ⇒ `ctl_cyrusdb`. */
export function cyrusIdent(toolName: string): string {
  if (CYRUS_CYR_NAMES.has(toolName)) return toolName;
  return toolName.startsWith('cyr_') ? toolName.slice(4) : toolName;
}

/** Take `-C file` (or `-Cfile`) out of argv; stops at `--`. Throws ConfigError on `-C` alone. */
export function extractConfigFlag(argv: readonly string[]): {
  configPath: string | undefined;
  rest: string[];
} {
  const rest: string[] = [];
  let configPath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '-C') {
      const v = argv[i + 1];
      if (v === undefined) throw new UsageError('option -C needs a file name');
      configPath = v;
      i++;
    } else if (a.startsWith('-C') && a.length > 2) {
      configPath = a.slice(2);
    } else {
      rest.push(a);
    }
  }
  return { configPath, rest };
}

/** Bad command-line usage (exit 64). */
export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ToolConfigOptions {
  /** identity for overrides; default $CYRUS_SERVICE or cyrusIdent(toolName) */
  service?: string;
  /** default `exit`; tests pass a function that throws */
  exit?: (code: number) => never;
  /** default: stderr */
  stderr?: (text: string) => void;
}

/**
 * Load imapd.conf for a tool (see module header). Never returns on error: prints the message and
 * exits 78 (configuration) or 64 (usage).
 */
export function loadConfigForTool(
  argv: readonly string[],
  toolName: string,
  opts: ToolConfigOptions = {},
): { conf: LoadedImapdConf; rest: string[]; service: string } {
  const exit = opts.exit ?? ((code: number): never => process.exit(code));
  const stderr = opts.stderr ?? ((t: string) => void process.stderr.write(t));
  const service = opts.service ?? (process.env['CYRUS_SERVICE'] || cyrusIdent(toolName));
  try {
    const { configPath, rest } = extractConfigFlag(argv);
    const conf = loadImapdConf(configPath ?? defaultImapdConfPath(), {
      service,
      warn: (msg) => stderr(`${toolName}: warning: ${msg}\n`),
    });
    return { conf, rest, service };
  } catch (e) {
    if (e instanceof UsageError) {
      stderr(`${toolName}: ${e.message}\n`);
      return exit(EX_USAGE);
    }
    if (e instanceof ConfigError) {
      stderr(`${toolName}: ${e.message}\n`);
      return exit(EX_CONFIG);
    }
    throw e;
  }
}

/**
 * loadConfigForTool for tools whose `main` returns an exit status (so tests can call it): a
 * configuration or usage error is printed and comes back as its exit code instead of exiting.
 */
export function loadConfigOrExitCode(
  argv: readonly string[],
  toolName: string,
  stderr: (text: string) => void,
): { conf: LoadedImapdConf; rest: string[]; service: string } | number {
  let code = 0;
  try {
    return loadConfigForTool(argv, toolName, {
      stderr,
      exit: (c: number): never => {
        code = c;
        throw new Error(`exit ${c}`);
      },
    });
  } catch (e) {
    if (code !== 0) return code;
    throw e;
  }
}
