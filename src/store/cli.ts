/**
 * What the store's command-line tools share: getopt-style parsing, output streams that tests
 * can capture, loading the configuration and the store, and turning errors into clean
 * messages and sysexits codes (no stack traces).
 * Imports: config/tool, tools/tool-conf, ./index, ./store, ../db.
 */
import { EX_DATAERR, EX_NOINPUT, EX_SOFTWARE, EX_TEMPFAIL, EX_USAGE } from '../config/tool.js';
import type { LoadedImapdConf } from '../config/imapd-conf.js';
import { loadConfigForTool } from '../config/tool.js';
import { DbError } from '../db/index.js';
import { MailError, type Identity } from './api.js';
import { StoreImpl } from './store.js';

export interface ToolIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** all of standard input (undump, dbtool set) */
  stdin: () => Promise<string>;
}

export const defaultIO: ToolIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  stdin: async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  },
};

export class UsageError extends Error {}

export interface Parsed {
  flags: Set<string>;
  values: Map<string, string>;
  args: string[];
}

/** POSIX getopt: `spec` like "rxf:" (':' after a letter = takes a value); stops at "--" */
export function getopt(argv: string[], spec: string): Parsed {
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === ':') continue;
    takes.set(spec[i]!, spec[i + 1] === ':');
  }
  const out: Parsed = { flags: new Set(), values: new Map(), args: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    for (let j = 1; j < a.length; j++) {
      const ch = a[j]!;
      if (!takes.has(ch)) throw new UsageError(`unknown option -${ch}`);
      if (takes.get(ch)) {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option -${ch} needs a value`);
        out.values.set(ch, v);
        break;
      }
      out.flags.add(ch);
    }
  }
  out.args = argv.slice(i);
  return out;
}

class ToolExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** loadConfigForTool, with its exits turned into a returned code (tests call main in-process) */
function loadToolConf(
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

/** the identity tools act as: an administrator */
export const TOOL_ADMIN: Identity = { userid: 'cyrus', isAdmin: true, groups: [] };

/**
 * Run a tool body: loads -C, opens nothing else; maps UsageError to 64 with the usage text,
 * MailError notFound to 66, other MailError/DbError to 75 (temporary) or 65, anything else to 70.
 */
export async function runTool(
  tool: string,
  usage: string,
  argv: string[],
  io: ToolIO,
  body: (conf: LoadedImapdConf, rest: string[]) => Promise<number>,
): Promise<number> {
  if (argv.includes('-h')) {
    io.stdout(usage);
    return 0;
  }
  const loaded = loadToolConf(argv, tool, io.stderr);
  if (typeof loaded === 'number') return loaded;
  try {
    return await body(loaded.conf, loaded.rest);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`${tool}: ${e.message}\n${usage}`);
      return EX_USAGE;
    }
    if (e instanceof MailError) {
      io.stderr(`${tool}: ${e.message}\n`);
      if (e.kind === 'notFound') return EX_NOINPUT;
      if (e.kind === 'badName' || e.kind === 'exists') return EX_DATAERR;
      return EX_TEMPFAIL;
    }
    if (e instanceof DbError) {
      io.stderr(`${tool}: database error: ${e.message}\n`);
      return e.code === 'notFound' ? EX_NOINPUT : EX_TEMPFAIL;
    }
    io.stderr(`${tool}: internal error: ${(e as Error).message}\n`);
    return EX_SOFTWARE;
  }
}

/** open the store for a tool; closed by the caller */
export function toolStore(conf: LoadedImapdConf): StoreImpl {
  return new StoreImpl(conf);
}

/** Cyrus durations for cyr_expire: N[dhms], a bare number is days (fractions allowed) */
export function parseDays(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([dhms]?)$/.exec(s.trim());
  if (!m) throw new UsageError(`bad duration "${s}"`);
  const n = Number(m[1]);
  const unit = m[2] || 'd';
  return n * { d: 86400, h: 3600, m: 60, s: 1 }[unit]!;
}

/** IMAP-style mailbox pattern ('*' any, '%' one level) to a RegExp over internal names */
export function patternRegExp(p: string): RegExp {
  const esc = p
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/%/g, '[^.]*');
  return new RegExp(`^${esc}$`);
}

/**
 * A mailbox name typed to a tool: internal form (`user.fred.Sent`); with unixhierarchysep
 * the '/' form is accepted too (`user/fred/Sent`, `user/john.doe` → `user.john^doe`), as Cyrus's tools do.
 */
export function toolMailboxName(conf: LoadedImapdConf, arg: string): string {
  if (!arg.includes('/') || !conf.getSwitch('unixhierarchysep')) return arg;
  return arg
    .split('/')
    .map((c) => c.replace(/\./g, '^'))
    .join('.');
}
