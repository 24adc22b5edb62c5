/**
 * imapd.conf reader: Cyrus 3.6 syntax, the typed option table, `<service>_<option>` overrides.
 *
 * Owns: reading the file (`key: value` lines, `\` continuations, `@include`, lower-cased keys),
 * the load-time checks Cyrus makes fatal (bad key, empty value, option given twice, a value of
 * the wrong type, missing `configdirectory`), the warnings we add (unknown key with the nearest
 * known one, deprecated name, Cyrus database backend read as sqlite), and the `ImapdConf`
 * getters of `api.ts`.
 *
 * Use:
 *   const conf = loadImapdConf('/etc/imapd.conf', { service: 'imap' });
 *   conf.getSwitch('allowplaintext'); conf.getDuration('timeout'); conf.getBytes('maxword');
 * Tools use `loadConfigForTool(argv, 'cyr_foo')` from `./tool.js` (handles `-C`, exits 78 on a
 * configuration error). `impliedPath(conf, 'proc_path')` gives Cyrus's computed location of path
 * options that have no default.
 *
 * Service identity: a key `<service>_<opt>` whose `<opt>` is in the table is stored as `<opt>`
 * for that service and beats the plain key; keys for other services are kept (and type-checked)
 * but ignored. `forService()` re-applies the same lines for another identity.
 *
 * Imports: node:fs, node:path, the option table, value parsers, api types.
 */
import { readFileSync, existsSync } from 'node:fs';
import { ConfigError, type ImapdConf } from './api.js';
import {
  CYRUS_DB_BACKENDS,
  IMPLIED_PATHS,
  allowedValues,
  OVERFLOW_PREFIXES,
  OVERFLOW_SUFFIXES,
  optionNames,
  optionSpec,
  type OptionSpec,
} from './imapoptions.js';
import {
  checkValue,
  editDistance,
  parseBits,
  parseBytesize,
  parseChoice,
  parseCInt,
  parseDuration,
  parseSwitch,
} from './values.js';

/** One `key: value` line after continuations and includes (key lower-cased). */
export interface ConfLine {
  key: string;
  value: string;
  file: string;
  line: number;
}

/** A non-fatal finding. `unknown` ones are what `cyr_info conf-lint` reports. */
export interface ConfigWarning {
  kind: 'unknown' | 'deprecated' | 'dbmap' | 'other';
  key: string;
  file: string;
  line: number;
  message: string;
}

export interface ParseOptions {
  /** the file name used in messages (and as the conf's `path`) */
  path: string;
  /** process identity for `<service>_<option>` overrides; default `''` (none) */
  service?: string;
  /** called with each warning message (file:line: ...); default: write to stderr */
  warn?: (msg: string) => void;
  /** reads an `@include`d file; default: the file system (CYRUS_PREFIX first) */
  include?: (path: string) => string;
  /**
   * Collect errors instead of throwing the first: each fatal problem is passed here and the line
   * is skipped (used by `cyr_info conf-lint`). A missing configdirectory is reported too.
   */
  onError?: (err: ConfigError) => void;
}

export interface LoadOptions {
  service?: string;
  warn?: (msg: string) => void;
  onError?: (err: ConfigError) => void;
}

/** `/etc/imapd.conf`, or `$CYRUS_PREFIX/etc/imapd.conf` when CYRUS_PREFIX is set and it exists. */
export function defaultImapdConfPath(): string {
  return withPrefix('/etc/imapd.conf');
}

/**
 * Read and check imapd.conf. As in Cyrus, `$CYRUS_PREFIX<path>` is tried before `path` when
 * CYRUS_PREFIX is set. Throws ConfigError (missing file, syntax, types, configdirectory).
 */
export function loadImapdConf(path: string, opts: LoadOptions = {}): LoadedImapdConf {
  const actual = withPrefix(path);
  let text: string;
  try {
    text = readFileSync(actual, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read configuration file ${path}: ${describeFsError(e)}`, path);
  }
  return parseImapdConf(text, { path: actual, ...opts });
}

/** `$CYRUS_PREFIX<path>` when CYRUS_PREFIX is set and that file exists, else `path`. */
export function withPrefix(path: string): string {
  const prefix = process.env['CYRUS_PREFIX'];
  if (prefix && existsSync(prefix + path)) return prefix + path;
  return path;
}

/** Parse imapd.conf text (see ParseOptions). Throws ConfigError unless `onError` is given. */
export function parseImapdConf(text: string, opts: ParseOptions): LoadedImapdConf {
  const report = (err: ConfigError): void => {
    if (opts.onError) opts.onError(err);
    else throw err;
  };
  const warn = opts.warn ?? ((msg: string) => process.stderr.write(`warning: ${msg}\n`));
  const lines: ConfLine[] = [];
  readLines(text, opts.path, opts.include ?? readIncluded, new Set([opts.path]), lines, report);
  const warnings: ConfigWarning[] = [];
  const conf = new LoadedImapdConf(opts.path, opts.service ?? '', lines, warnings, report);
  for (const w of warnings) warn(w.message);
  return conf;
}

/**
 * Cyrus's location for a path option that has no default (`proc_path` ⇒
 * `{configdirectory}/proc`, `duplicate_db_path` ⇒ `{configdirectory}/deliver.db`, ...).
 */
export function impliedPath(conf: ImapdConf, name: string): string | null {
  const set = conf.getString(name);
  if (set !== null) return set;
  const implied = IMPLIED_PATHS[name];
  return implied ? expandConfigDirectory(implied, conf.configDirectory) : null;
}

function readIncluded(path: string): string {
  return readFileSync(withPrefix(path), 'utf8');
}

function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code ?? String(e);
}

/** The syntax pass: physical lines → ConfLine[] (continuations joined, includes expanded). */
function readLines(
  text: string,
  file: string,
  include: (p: string) => string,
  included: Set<string>,
  out: ConfLine[],
  report: (e: ConfigError) => void,
): void {
  const phys = text.split('\n');
  for (let i = 0; i < phys.length; i++) {
    const lineNo = i + 1;
    let buf = stripCR(phys[i]!);
    // A backslash as the very last character joins the next physical line, nothing inserted.
    while (buf.endsWith('\\') && i + 1 < phys.length) {
      buf = buf.slice(0, -1) + stripCR(phys[++i]!);
    }
    if (buf.endsWith('\\')) buf = buf.slice(0, -1);
    const trimmed = buf.replace(/^\s+/, '');
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const m = /^(@?[A-Za-z0-9_-]*)/.exec(trimmed)!;
    const rawKey = m[1]!;
    const after = trimmed.slice(rawKey.length);
    if (rawKey === '' || rawKey === '@' || !after.startsWith(':')) {
      const shown = /^\S*/.exec(trimmed)![0].replace(/:.*$/, '');
      report(
        new ConfigError(
          `${file}:${lineNo}: invalid option name '${shown}' (a key is letters, digits, '-' and '_', followed directly by ':')`,
          file,
          lineNo,
          shown,
        ),
      );
      continue;
    }
    const key = rawKey.toLowerCase();
    const value = after.slice(1).trim();
    if (value === '') {
      report(new ConfigError(`${file}:${lineNo}: empty value for option '${key}'`, file, lineNo, key));
      continue;
    }
    if (key.startsWith('@')) {
      if (key !== '@include') {
        report(new ConfigError(`${file}:${lineNo}: unknown directive '${key}'`, file, lineNo, key));
        continue;
      }
      if (included.has(value)) {
        report(new ConfigError(`${file}:${lineNo}: '${value}' is included twice`, file, lineNo, key));
        continue;
      }
      let sub: string;
      try {
        sub = include(value);
      } catch (e) {
        report(
          new ConfigError(
            `${file}:${lineNo}: cannot read included file ${value}: ${describeFsError(e)}`,
            file,
            lineNo,
            key,
          ),
        );
        continue;
      }
      included.add(value);
      readLines(sub, value, include, included, out, report);
      continue;
    }
    out.push({ key, value, file, line: lineNo });
  }
}

function stripCR(s: string): string {
  return s.endsWith('\r') ? s.slice(0, -1) : s;
}

function expandConfigDirectory(value: string, configDirectory: string): string {
  return value.startsWith('{configdirectory}')
    ? configDirectory + value.slice('{configdirectory}'.length)
    : value;
}

/** Is `key` a legal key outside the table (a Cyrus "overflow" family)? */
export function isOverflowFamily(key: string): boolean {
  if (OVERFLOW_PREFIXES.some((p) => key.startsWith(p) && key.length > p.length)) return true;
  return OVERFLOW_SUFFIXES.some((s) => key.endsWith(s) && key.length > s.length);
}

/**
 * `<prefix>_<rest>` where `<rest>` is an option or an overflow family: an override for another
 * service, a channel-prefixed sync option, `<service>_sasl_*`. Returns the split or null.
 */
export function splitServicePrefix(key: string): { prefix: string; rest: string } | null {
  for (let i = key.indexOf('_'); i > 0; i = key.indexOf('_', i + 1)) {
    const rest = key.slice(i + 1);
    if (optionSpec(rest) || isOverflowFamily(rest)) return { prefix: key.slice(0, i), rest };
  }
  return null;
}

/**
 * The nearest option name, for "did you mean" (also `<service>_<option>` forms: `imap_alowplaintext`
 * gives `imap_allowplaintext`).
 */
export function nearestOption(key: string): string | undefined {
  const direct = nearest(key);
  const us = key.indexOf('_');
  if (us > 0) {
    const rest = key.slice(us + 1);
    const near = nearest(rest);
    if (near && near.name !== rest && (!direct || direct.d > near.d))
      return `${key.slice(0, us)}_${near.name}`;
  }
  return direct?.name;
}

function nearest(key: string): { name: string; d: number } | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of optionNames()) {
    const d = editDistance(key, n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3))
    ? { name: best, d: bestD }
    : undefined;
}

/**
 * The partition new mailboxes go to, as Cyrus requires it of programs that touch the spool:
 * `defaultpartition` (alphanumeric, with a `partition-<name>` line) if set, else `default` if
 * `partition-default` exists, else the first `partition-*`. Throws ConfigError when there is none.
 */
export function defaultPartition(conf: ImapdConf): { name: string; path: string } {
  const parts = conf.partitions();
  const named = conf.getString('defaultpartition');
  if (named !== null) {
    if (!/^[A-Za-z0-9]+$/.test(named)) {
      throw new ConfigError(
        `${conf.path}: defaultpartition '${named}' must be letters and digits`,
        conf.path,
        undefined,
        'defaultpartition',
      );
    }
    const path = parts.get(named.toLowerCase());
    if (path === undefined) {
      throw new ConfigError(
        `${conf.path}: defaultpartition is '${named}' but there is no partition-${named} line`,
        conf.path,
        undefined,
        'defaultpartition',
      );
    }
    return { name: named.toLowerCase(), path };
  }
  const dflt = parts.get('default');
  if (dflt !== undefined) return { name: 'default', path: dflt };
  const first = [...parts][0];
  if (!first)
    throw new ConfigError(
      `${conf.path}: no partition-<name> line: mail cannot be stored`,
      conf.path,
      undefined,
      'partition-default',
    );
  return { name: first[0], path: first[1] };
}

interface Setting {
  raw: string;
  file: string;
  line: number;
  /** 2 = given as `<service>_<opt>`, 1 = plain, 0 = copied from a deprecated name */
  level: 0 | 1 | 2;
}

/** One value of `describe()` for cyr_info. */
export interface SettingView {
  name: string;
  /** the effective value as text (`{configdirectory}` expanded); '' for unset */
  value: string;
  isDefault: boolean;
  spec: OptionSpec;
}

/** imapd.conf as seen by one service identity. */
export class LoadedImapdConf implements ImapdConf {
  readonly configDirectory: string;
  readonly #values = new Map<string, Setting>();
  /** overflow keys as written (incl. other services' overrides) */
  readonly #overflow = new Map<string, ConfLine>();

  constructor(
    readonly path: string,
    readonly service: string,
    /** every line that was read, in order (after includes) */
    readonly lines: readonly ConfLine[],
    /** non-fatal findings of this load */
    readonly warnings: ConfigWarning[],
    report: (e: ConfigError) => void,
  ) {
    const deprecated: { spec: OptionSpec; setting: Setting; key: string }[] = [];
    const prefix = service ? `${service}_` : null;
    for (const l of lines) {
      let key = l.key;
      let level: 1 | 2 = 1;
      if (prefix && key.startsWith(prefix) && optionSpec(key.slice(prefix.length))) {
        key = key.slice(prefix.length);
        level = 2;
      }
      const spec = optionSpec(key);
      if (!spec) {
        this.#storeOverflow(l, report);
        continue;
      }
      const value = this.#checked(l, key, spec, report);
      if (value === null) continue;
      const prev = this.#values.get(key);
      if (prev && prev.level >= level) {
        if (prev.level === 2 && level === 1) continue; // generic after service-specific: ignored
        report(
          new ConfigError(
            `${l.file}:${l.line}: option '${l.key}' was specified twice (first at ${prev.file}:${prev.line})`,
            l.file,
            l.line,
            l.key,
          ),
        );
        continue;
      }
      const setting: Setting = { raw: value, file: l.file, line: l.line, level };
      if (spec.deprecated) {
        const to = spec.replacedBy ? ` in favour of '${spec.replacedBy}'` : '';
        this.#warn('deprecated', l, `option '${l.key}' is deprecated${to}`);
        if (spec.replacedBy) deprecated.push({ spec, setting, key });
      }
      this.#values.set(key, setting);
    }
    // Deprecated names feed their replacement unless it is set itself (then the new name wins).
    for (const d of deprecated) {
      const target = d.spec.replacedBy!;
      const tspec = optionSpec(target)!;
      if (this.#values.has(target)) continue;
      const ok = checkValue(d.setting.raw, tspec);
      if (ok.ok) this.#values.set(target, { ...d.setting, level: 0 });
    }
    const cd = this.#values.get('configdirectory');
    if (!cd) {
      report(
        new ConfigError(
          `${path}: required option 'configdirectory' is not set`,
          path,
          undefined,
          'configdirectory',
        ),
      );
    }
    this.configDirectory = cd ? cd.raw : '';
  }

  #warn(kind: ConfigWarning['kind'], l: ConfLine, message: string): void {
    this.warnings.push({
      kind,
      key: l.key,
      file: l.file,
      line: l.line,
      message: `${l.file}:${l.line}: ${message}`,
    });
  }

  #storeOverflow(l: ConfLine, report: (e: ConfigError) => void): void {
    const prev = this.#overflow.get(l.key);
    if (prev) {
      report(
        new ConfigError(
          `${l.file}:${l.line}: option '${l.key}' was specified twice (first at ${prev.file}:${prev.line})`,
          l.file,
          l.line,
          l.key,
        ),
      );
      return;
    }
    this.#overflow.set(l.key, l);
    if (isOverflowFamily(l.key)) return;
    const split = splitServicePrefix(l.key);
    if (split) {
      // another service's override: check its type now so a typo fails at load, not in that service
      const spec = optionSpec(split.rest);
      if (spec) this.#checked(l, split.rest, spec, report);
      return;
    }
    const near = nearestOption(l.key);
    this.#warn('unknown', l, `unknown option '${l.key}'${near ? ` (did you mean '${near}'?)` : ''}`);
  }

  /** Check a value against the option type; returns the text to store, or null after reporting. */
  #checked(l: ConfLine, key: string, spec: OptionSpec, report: (e: ConfigError) => void): string | null {
    if (spec.db) {
      if (spec.values!.includes(l.value)) return l.value;
      if (CYRUS_DB_BACKENDS.includes(l.value) || l.value.startsWith('berkeley')) {
        this.#warn('dbmap', l, `option '${l.key}': Cyrus backend '${l.value}' is read as 'sqlite'`);
        return 'sqlite';
      }
      report(
        new ConfigError(
          `${l.file}:${l.line}: option '${l.key}' must be one of: ${spec.values!.join(', ')} (or a Cyrus backend name), not '${l.value}'`,
          l.file,
          l.line,
          l.key,
        ),
      );
      return null;
    }
    const r = checkValue(l.value, spec);
    if (r.ok) return l.value;
    report(
      new ConfigError(
        `${l.file}:${l.line}: option '${l.key}' (${spec.type}) must be ${r.expected}, not '${l.value}'`,
        l.file,
        l.line,
        l.key,
      ),
    );
    return null;
  }

  #spec(name: string, want: readonly string[]): OptionSpec {
    const spec = optionSpec(name);
    if (!spec)
      throw new ConfigError(
        `unknown imapd.conf option '${name}' (not in the option table)`,
        undefined,
        undefined,
        name,
      );
    if (!want.includes(spec.type)) {
      throw new ConfigError(
        `imapd.conf option '${name}' is of type ${spec.type}, not ${want.join('/')}`,
        undefined,
        undefined,
        name,
      );
    }
    return spec;
  }

  /** The text of an option (configured or default, `{configdirectory}` expanded), or null. */
  #text(name: string, spec: OptionSpec): string | null {
    const s = this.#values.get(name);
    if (s)
      return spec.type === 'string' || spec.type === 'path'
        ? expandConfigDirectory(s.raw, this.configDirectory)
        : s.raw;
    if (spec.default === null) return null;
    if (typeof spec.default === 'string') return expandConfigDirectory(spec.default, this.configDirectory);
    return String(spec.default);
  }

  /** Was the option set in the file (directly, as `<service>_<opt>`, or by a deprecated name)? */
  isSet(name: string): boolean {
    return this.#values.has(name);
  }

  /** Where an option was set, if it was. */
  sourceOf(name: string): { file: string; line: number } | undefined {
    const s = this.#values.get(name);
    return s ? { file: s.file, line: s.line } : undefined;
  }

  getString(name: string): string | null {
    const spec = this.#spec(name, [
      'string',
      'path',
      'enum',
      'stringlist',
      'bitfield',
      'duration',
      'bytesize',
    ]);
    return this.#text(name, spec);
  }

  getInt(name: string): number {
    const spec = this.#spec(name, ['int', 'bytesize', 'duration']);
    const t = this.#text(name, spec);
    if (t === null) return 0;
    if (spec.type === 'int') return unwrap(parseCInt(t), name);
    if (spec.type === 'bytesize') {
      const b = unwrap(parseBytesize(t, spec.unit), name);
      return b < 0 ? -1 : Math.floor(b / unitBytes(spec.unit));
    }
    return Math.trunc(unwrap(parseDuration(t, spec.unit), name) / unitSeconds(spec.unit));
  }

  getSwitch(name: string): boolean {
    const spec = this.#spec(name, ['switch']);
    const s = this.#values.get(name);
    return s ? unwrap(parseSwitch(s.raw), name) : spec.default === true;
  }

  getEnum(name: string): string {
    const spec = this.#spec(name, ['enum', 'stringlist']);
    const t = this.#text(name, spec);
    if (t === null) return '';
    return spec.db ? t : unwrap(parseChoice(t, spec), name);
  }

  getBits(name: string): string[] {
    const spec = this.#spec(name, ['bitfield']);
    const t = this.#text(name, spec);
    return t === null ? [] : unwrap(parseBits(t, spec), name);
  }

  /** Seconds; unset with no default gives 0 (use isSet to tell). */
  getDuration(name: string): number {
    const spec = this.#spec(name, ['duration']);
    const t = this.#text(name, spec);
    return t === null ? 0 : unwrap(parseDuration(t, spec.unit), name);
  }

  /** Bytes; a negative setting (Cyrus's "off", e.g. autocreate_quota -1) gives -1. */
  getBytes(name: string): number {
    const spec = this.#spec(name, ['bytesize', 'int']);
    const t = this.#text(name, spec);
    if (t === null) return 0;
    return spec.type === 'int' ? unwrap(parseCInt(t), name) : unwrap(parseBytesize(t, spec.unit), name);
  }

  getOverflow(key: string): string | undefined {
    const k = key.toLowerCase();
    if (this.service) {
      const own = this.#overflow.get(`${this.service}_${k}`);
      if (own) return own.value;
    }
    return this.#overflow.get(k)?.value;
  }

  getSasl(opt: string): string | undefined {
    return this.getOverflow(`sasl_${opt}`);
  }

  partitions(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, l] of this.#overflow) {
      if (k.startsWith('partition-')) out.set(k.slice('partition-'.length), l.value);
    }
    if (this.service) {
      const own = `${this.service}_partition-`;
      for (const [k, l] of this.#overflow) if (k.startsWith(own)) out.set(k.slice(own.length), l.value);
    }
    return out;
  }

  /** Every overflow key with its value (for cyr_info). */
  overflowEntries(): ConfLine[] {
    return [...this.#overflow.values()];
  }

  forService(service: string): LoadedImapdConf {
    // the same lines again; their warnings were already given by this load
    return new LoadedImapdConf(this.path, service, this.lines, [], () => {});
  }

  /** Every option in table order with its effective value (cyr_info conf, conf-all, conf-default). */
  describe(): SettingView[] {
    return optionNames().map((name) => {
      const spec = optionSpec(name)!;
      const set = this.#values.get(name);
      let value: string;
      if (spec.type === 'switch') value = this.getSwitch(name) ? 'yes' : 'no';
      else if (spec.type === 'enum' || spec.type === 'stringlist') value = this.getEnum(name);
      else if (spec.type === 'bitfield') {
        // canonical names in table order, as Cyrus prints them
        const bits = new Set(this.getBits(name));
        value = allowedValues(spec)
          .map((v) => v.canonical)
          .filter((v) => bits.has(v))
          .join(' ');
      } else value = this.#text(name, spec) ?? '';
      return { name, value, isDefault: !set, spec };
    });
  }
}

function unwrap<T>(r: { ok: true; value: T } | { ok: false; expected: string }, name: string): T {
  if (r.ok) return r.value;
  // values are checked at load; this is only reached for a bad default in the table
  throw new ConfigError(`option '${name}' has a value that is not ${r.expected}`, undefined, undefined, name);
}

function unitBytes(u: string | undefined): number {
  return u === 'K' ? 1024 : u === 'M' ? 1024 ** 2 : u === 'G' ? 1024 ** 3 : 1;
}

function unitSeconds(u: string | undefined): number {
  return u === 'd' ? 86400 : u === 'h' ? 3600 : u === 'm' ? 60 : 1;
}
