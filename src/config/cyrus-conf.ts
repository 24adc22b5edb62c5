/**
 * cyrus.conf reader: the exact Cyrus 3.6 grammar (master/masterconf.c behaviour).
 *
 * Owns: turning cyrus.conf into typed START / SERVICES / EVENTS / DAEMON entries with their
 * defaults, the fatal errors Cyrus's master exits on (ConfigError with file and line), and
 * warnings for what Cyrus silently ignores or disables (unknown keys, non-numeric integers,
 * unknown proto, EVENTS without period or at, text outside sections).
 *
 * Grammar (see spec cyrus-conf.md §1): `#` anywhere ends the line (even inside quotes); a section
 * is `NAME {` on one line (START, SERVICES, EVENTS, DAEMON, any case; other blocks skipped by brace
 * counting); an entry is `name key=value ...` with alphanumeric name and keys, values quoted
 * `"..."` (no escapes) or bare words; the first occurrence of a key wins; at most 64 arguments;
 * a line starting with `}` ends the section, and so does a `}` after an entry's arguments.
 *
 * Effective values are applied here so master needs no rules of its own: `babysit` raises
 * `prefork` to 1 and defaults `maxforkrate` to 10; a DAEMON's `maxforkrate` 0 becomes 10; a
 * valid `at` sets `period` to 1440; UDP services get at most 1 worker.
 *
 * Imports: node:fs, api.ts, imapd-conf.ts (withPrefix).
 */
import { readFileSync } from 'node:fs';
import { withPrefix } from './imapd-conf.js';
import {
  ConfigError,
  type CyrusConf,
  type DaemonEntry,
  type EventEntry,
  type ServiceEntry,
  type StartEntry,
} from './api.js';

const SECTIONS = ['START', 'SERVICES', 'EVENTS', 'DAEMON'] as const;
type Section = (typeof SECTIONS)[number];
const MAX_ARGS = 64;
const PROTOS = ['tcp', 'tcp4', 'tcp6', 'udp', 'udp4', 'udp6'] as const;

/** Keys each section knows; others give a warning. */
export const SECTION_KEYS: Record<Section, readonly string[]> = {
  START: ['cmd'],
  SERVICES: ['cmd', 'listen', 'proto', 'prefork', 'maxchild', 'babysit', 'maxforkrate', 'maxfds'],
  EVENTS: ['cmd', 'period', 'at'],
  DAEMON: ['cmd', 'wait', 'maxforkrate', 'maxfds'],
};

/** `/etc/cyrus.conf`, or `$CYRUS_PREFIX/etc/cyrus.conf` when CYRUS_PREFIX is set and it exists. */
export function defaultCyrusConfPath(): string {
  return withPrefix('/etc/cyrus.conf');
}

/** Read cyrus.conf (`$CYRUS_PREFIX<path>` first, as Cyrus). Throws ConfigError (missing file or a fatal line). */
export function loadCyrusConf(path: string): CyrusConf {
  const actual = withPrefix(path);
  let text: string;
  try {
    text = readFileSync(actual, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`,
      path,
    );
  }
  return parseCyrusConf(text, actual);
}

interface RawEntry {
  name: string;
  args: Map<string, string>;
  line: number;
}

/** Parse cyrus.conf text; `path` is used in messages. Throws ConfigError on a fatal line. */
export function parseCyrusConf(text: string, path: string): CyrusConf {
  const conf: CyrusConf = { path, start: [], services: [], events: [], daemons: [], warnings: [] };
  const warn = (line: number, msg: string) => conf.warnings.push(`${path}:${line}: ${msg}`);
  const fail = (line: number, msg: string, key?: string): never => {
    throw new ConfigError(`${path}:${line}: ${msg}`, path, line, key);
  };
  const names = new Map<string, number>(); // SERVICES and DAEMON names → line

  let section: Section | null = null;
  let skipDepth = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let buf = lines[i]!;
    if (buf.length > 4095) warn(lineNo, 'line longer than 4095 bytes; Cyrus would split it');
    const hash = buf.indexOf('#');
    if (hash >= 0) buf = buf.slice(0, hash);
    buf = buf.replace(/^\s+/, '').replace(/\s+$/, '');
    if (buf === '') continue;

    if (skipDepth > 0) {
      skipDepth += count(buf, '{') - count(buf, '}');
      continue;
    }
    if (section === null) {
      const kw = /^([A-Za-z]+)/.exec(buf)?.[1]?.toUpperCase();
      const known = SECTIONS.find((s) => s === kw && !/^[A-Za-z0-9]/.test(buf.slice(s.length)));
      if (known && buf.includes('{')) {
        section = known;
        continue;
      }
      if (known) {
        warn(lineNo, `section ${known} has no '{' on the same line; Cyrus skips it`);
        continue;
      }
      if (buf.includes('{')) {
        warn(lineNo, `unknown section '${/^\S*/.exec(buf)![0]}' skipped`);
        skipDepth = count(buf, '{') - count(buf, '}');
        continue;
      }
      warn(lineNo, `text outside any section ignored: '${buf}'`);
      continue;
    }
    if (buf.startsWith('}')) {
      section = null;
      continue;
    }
    const { entry, endsSection } = parseEntry(buf, lineNo, fail);
    addEntry(conf, section, entry, names, warn, fail);
    if (endsSection) section = null;
  }
  if (section !== null) warn(lines.length, `section ${section} is not closed with '}'`);
  return conf;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
const isSpace = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);

/** One entry line: name, then key=value arguments. */
function parseEntry(
  buf: string,
  line: number,
  fail: (line: number, msg: string, key?: string) => never,
): { entry: RawEntry; endsSection: boolean } {
  let p = 0;
  while (isAlnum(buf[p])) p++;
  const name = buf.slice(0, p);
  if (name === '' || (p < buf.length && !isSpace(buf[p]))) {
    fail(line, `bad character in name: '${/^\S*/.exec(buf)![0]}' (entry names are letters and digits only)`);
  }
  const args = new Map<string, string>();
  let nargs = 0;
  for (;;) {
    while (isSpace(buf[p])) p++;
    if (p >= buf.length) return { entry: { name, args, line }, endsSection: false };
    if (buf[p] === '}') return { entry: { name, args, line }, endsSection: true };
    const k0 = p;
    while (isAlnum(buf[p])) p++;
    const key = buf.slice(k0, p);
    if (key === '' || buf[p] !== '=') {
      fail(
        line,
        `bad character in argument of '${name}': '${/^\S*/.exec(buf.slice(k0))![0]}' (expected key=value)`,
        key || undefined,
      );
    }
    p++; // '='
    let value: string;
    if (buf[p] === '"') {
      const close = buf.indexOf('"', p + 1);
      if (close < 0) fail(line, `missing quote in argument '${key}' of '${name}'`, key);
      value = buf.slice(p + 1, close);
      p = close + 1;
    } else {
      const v0 = p;
      while (p < buf.length && !isSpace(buf[p])) p++;
      value = buf.slice(v0, p);
    }
    if (++nargs > MAX_ARGS) fail(line, `too many arguments for '${name}' (at most ${MAX_ARGS})`);
    if (!args.has(key)) args.set(key, value); // the first occurrence wins
  }
}

/** Cyrus's integer rule: must start with a digit or -digit, then atoi (trailing junk ignored). */
function intArg(e: RawEntry, key: string, dflt: number, warn: (l: number, m: string) => void): number {
  const v = e.args.get(key);
  if (v === undefined) return dflt;
  const m = /^-?[0-9]+/.exec(v);
  if (!m) {
    warn(e.line, `'${e.name}': ${key}=${v} is not a number; using ${dflt}`);
    return dflt;
  }
  if (m[0] !== v) warn(e.line, `'${e.name}': ${key}=${v} read as ${parseInt(m[0], 10)}`);
  return parseInt(m[0], 10);
}

function switchArg(e: RawEntry, key: string, dflt: boolean, warn: (l: number, m: string) => void): boolean {
  const v = e.args.get(key);
  if (v === undefined) return dflt;
  const c = v[0];
  if (c === '0' || c === 'n' || c === 'f' || v.startsWith('of')) return false;
  if (c === '1' || c === 'y' || c === 't' || v.startsWith('on')) return true;
  warn(e.line, `'${e.name}': ${key}=${v} is not a switch; using ${dflt ? 'yes' : 'no'}`);
  return dflt;
}

function cmdArg(e: RawEntry, section: Section, fail: (l: number, m: string, k?: string) => never): string[] {
  const argv = (e.args.get('cmd') ?? '').split(/\s+/).filter((w) => w !== '');
  if (argv.length === 0) fail(e.line, `${section} entry '${e.name}' has no cmd`, 'cmd');
  return argv;
}

function addEntry(
  conf: CyrusConf,
  section: Section,
  e: RawEntry,
  names: Map<string, number>,
  warn: (l: number, m: string) => void,
  fail: (l: number, m: string, k?: string) => never,
): void {
  for (const k of e.args.keys()) {
    if (!SECTION_KEYS[section].includes(k))
      warn(e.line, `unknown key '${k}' in ${section} entry '${e.name}' ignored`);
  }
  if (section === 'SERVICES' || section === 'DAEMON') {
    const first = names.get(e.name);
    if (first !== undefined)
      fail(e.line, `multiple entries for service '${e.name}' (first on line ${first})`);
    names.set(e.name, e.line);
  }
  switch (section) {
    case 'START': {
      const s: StartEntry = { name: e.name, cmd: cmdArg(e, section, fail), line: e.line };
      conf.start.push(s);
      return;
    }
    case 'SERVICES': {
      const cmd = cmdArg(e, section, fail);
      const listen = e.args.get('listen');
      if (listen === undefined || listen === '')
        fail(e.line, `SERVICES entry '${e.name}' has no listen`, 'listen');
      const protoText = e.args.get('proto') ?? 'tcp';
      const proto = PROTOS.find((p) => p === protoText.toLowerCase());
      if (!proto) {
        warn(e.line, `'${e.name}': unknown proto '${protoText}'; Cyrus disables this service`);
        return;
      }
      const babysit = switchArg(e, 'babysit', false, warn);
      let prefork = intArg(e, 'prefork', 0, warn);
      let maxchild = intArg(e, 'maxchild', -1, warn);
      let maxforkrate = intArg(e, 'maxforkrate', 0, warn);
      if (babysit) {
        if (prefork < 1) prefork = 1;
        if (!e.args.has('maxforkrate')) maxforkrate = 10;
      }
      if (proto.startsWith('udp')) {
        prefork = Math.min(prefork, 1);
        maxchild = 1;
      }
      const s: ServiceEntry = {
        name: e.name,
        cmd,
        listen: listen!,
        proto,
        prefork,
        maxchild,
        babysit,
        maxforkrate,
        maxfds: intArg(e, 'maxfds', 0, warn),
        line: e.line,
      };
      conf.services.push(s);
      return;
    }
    case 'EVENTS': {
      const cmd = cmdArg(e, section, fail);
      let period = intArg(e, 'period', 0, warn);
      let at: number | null = null;
      if (e.args.has('at')) {
        const v = intArg(e, 'at', -1, warn);
        if (v >= 0 && Math.floor(v / 100) <= 23 && v % 100 <= 59) {
          at = v;
          period = 1440;
        } else {
          warn(e.line, `'${e.name}': at=${e.args.get('at')} is not a time HHMM; ignored`);
        }
      }
      if (period <= 0 && at === null) {
        warn(
          e.line,
          `EVENTS entry '${e.name}' has neither period nor at: it runs once when the configuration is loaded`,
        );
      }
      const ev: EventEntry = { name: e.name, cmd, period, at, line: e.line };
      conf.events.push(ev);
      return;
    }
    case 'DAEMON': {
      const cmd = cmdArg(e, section, fail);
      const maxforkrate = intArg(e, 'maxforkrate', 0, warn);
      const d: DaemonEntry = {
        name: e.name,
        cmd,
        wait: switchArg(e, 'wait', false, warn),
        maxforkrate: maxforkrate === 0 ? 10 : maxforkrate,
        maxfds: intArg(e, 'maxfds', 0, warn),
        line: e.line,
      };
      conf.daemons.push(d);
      return;
    }
  }
}
