/**
 * Sieve checker: syntax tree → compiled script, or a list of "line N: ..." errors.
 *
 * Owns: the table of known commands and tests with their tagged and positional arguments and
 * the extension each needs; `require` rules (first, known, enabled by sieve_extensions);
 * if/elsif/else order; comparator, match-type, relational operator, date-part and regex
 * validity; encoded-character decoding (RFC 5228 2.4.2.4). The compiled form (`Compiled`) is
 * plain JSON, stored beside the script as its "bytecode" with `COMPILED_VERSION`.
 *
 * Imports: parser.ts, extensions.ts.
 */
import { parseScript, SieveSyntaxError, type Arg, type Command, type Test } from './parser.js';
import { IMPLEMENTED } from './extensions.js';
import { compileSieveRegex } from './regex.js';

export const COMPILED_VERSION = 1;

export type Val = string | string[] | number;

export interface CNode {
  name: string;
  /** tag name (without ':') → its value, or true for a flag tag */
  tags: Record<string, Val | true>;
  pos: Val[];
  tests: CNode[];
  block?: CNode[];
  line: number;
}

export interface Compiled {
  version: number;
  requires: string[];
  commands: CNode[];
}

type ArgType = 's' | 'l' | 'n';
interface TagSpec {
  arg?: ArgType;
  ext?: string;
  group?: string;
}
interface Spec {
  ext?: string[];
  tags?: Record<string, TagSpec>;
  pos: ArgType[];
  /** minimum positional count (default all) */
  minPos?: number;
  tests?: 'none' | 'one' | 'list';
  block?: boolean;
}

const COMPARATOR: Record<string, TagSpec> = { comparator: { arg: 's', group: 'comparator' } };
const MATCH: Record<string, TagSpec> = {
  is: { group: 'match' },
  contains: { group: 'match' },
  matches: { group: 'match' },
  regex: { group: 'match', ext: 'regex' },
  value: { arg: 's', group: 'match', ext: 'relational' },
  count: { arg: 's', group: 'match', ext: 'relational' },
};
const ADDRPART: Record<string, TagSpec> = {
  all: { group: 'addrpart' },
  localpart: { group: 'addrpart' },
  domain: { group: 'addrpart' },
  user: { group: 'addrpart', ext: 'subaddress' },
  detail: { group: 'addrpart', ext: 'subaddress' },
};
const INDEX: Record<string, TagSpec> = { index: { arg: 'n', ext: 'index' }, last: { ext: 'index' } };
const CM = { ...COMPARATOR, ...MATCH };

const COMMANDS: Record<string, Spec> = {
  require: { pos: ['l'] },
  if: { pos: [], tests: 'one', block: true },
  elsif: { pos: [], tests: 'one', block: true },
  else: { pos: [], block: true },
  stop: { pos: [] },
  keep: { pos: [], tags: { flags: { arg: 'l', ext: 'imap4flags' } } },
  discard: { pos: [] },
  redirect: {
    pos: ['s'],
    tags: {
      copy: { ext: 'copy' },
      notify: { arg: 's', ext: 'redirect-dsn' },
      ret: { arg: 's', ext: 'redirect-dsn' },
    },
  },
  fileinto: {
    ext: ['fileinto'],
    pos: ['s'],
    tags: {
      copy: { ext: 'copy' },
      flags: { arg: 'l', ext: 'imap4flags' },
      create: { ext: 'mailbox' },
      specialuse: { arg: 's', ext: 'special-use' },
      mailboxid: { arg: 's', ext: 'mailboxid' },
    },
  },
  reject: { ext: ['reject'], pos: ['s'] },
  ereject: { ext: ['ereject'], pos: ['s'] },
  vacation: {
    ext: ['vacation'],
    pos: ['s'],
    tags: {
      days: { arg: 'n', group: 'period' },
      seconds: { arg: 'n', group: 'period', ext: 'vacation-seconds' },
      subject: { arg: 's' },
      from: { arg: 's' },
      addresses: { arg: 'l' },
      mime: {},
      handle: { arg: 's' },
      fcc: { arg: 's', ext: 'fcc' },
      create: { ext: 'mailbox' },
      flags: { arg: 'l', ext: 'imap4flags' },
      specialuse: { arg: 's', ext: 'special-use' },
    },
  },
  setflag: { ext: ['imap4flags'], pos: ['l', 'l'], minPos: 1 },
  addflag: { ext: ['imap4flags'], pos: ['l', 'l'], minPos: 1 },
  removeflag: { ext: ['imap4flags'], pos: ['l', 'l'], minPos: 1 },
  set: {
    ext: ['variables'],
    pos: ['s', 's'],
    tags: {
      lower: { group: 'case' },
      upper: { group: 'case' },
      lowerfirst: { group: 'first' },
      upperfirst: { group: 'first' },
      quotewildcard: {},
      quoteregex: { ext: 'regex' },
      encodeurl: { ext: 'enotify' },
      length: {},
    },
  },
  include: {
    ext: ['include'],
    pos: ['s'],
    tags: { personal: { group: 'loc' }, global: { group: 'loc' }, once: {}, optional: {} },
  },
  return: { ext: ['include'], pos: [] },
  global: { ext: ['include', 'variables'], pos: ['l'] },
  notify: {
    ext: ['enotify'],
    pos: ['s'],
    tags: {
      from: { arg: 's' },
      importance: { arg: 's' },
      options: { arg: 'l' },
      message: { arg: 's' },
      fcc: { arg: 's', ext: 'fcc' },
      create: { ext: 'mailbox' },
      flags: { arg: 'l', ext: 'imap4flags' },
      specialuse: { arg: 's', ext: 'special-use' },
    },
  },
  addheader: { ext: ['editheader'], pos: ['s', 's'], tags: { last: {} } },
  deleteheader: {
    ext: ['editheader'],
    pos: ['s', 'l'],
    minPos: 1,
    tags: { ...CM, index: { arg: 'n' }, last: {} },
  },
  error: { ext: ['ihave'], pos: ['s'] },
  log: { ext: ['vnd.cyrus.log'], pos: ['s'] },
};

/**
 * The pre-RFC notify of draft-martin-sieve-notify (Cyrus's `notify` capability): used when a
 * script requires "notify" and not "enotify"; compiled as `notify_legacy` / `denotify`.
 */
const LEGACY_NOTIFY: Spec = {
  ext: ['notify'],
  pos: [],
  tags: {
    method: { arg: 's' },
    id: { arg: 's' },
    options: { arg: 'l' },
    low: { group: 'priority' },
    normal: { group: 'priority' },
    high: { group: 'priority' },
    message: { arg: 's' },
  },
};
const DENOTIFY: Spec = {
  ext: ['notify'],
  pos: [],
  tags: {
    is: { arg: 's', group: 'match' },
    contains: { arg: 's', group: 'match' },
    matches: { arg: 's', group: 'match' },
    regex: { arg: 's', group: 'match', ext: 'regex' },
    comparator: { arg: 's', group: 'comparator' },
    low: { group: 'priority' },
    normal: { group: 'priority' },
    high: { group: 'priority' },
  },
};

const TESTS: Record<string, Spec> = {
  address: { pos: ['l', 'l'], tags: { ...CM, ...ADDRPART, ...INDEX } },
  envelope: { ext: ['envelope'], pos: ['l', 'l'], tags: { ...CM, ...ADDRPART } },
  header: { pos: ['l', 'l'], tags: { ...CM, ...INDEX } },
  exists: { pos: ['l'] },
  size: { pos: ['n'], tags: { over: { group: 'size' }, under: { group: 'size' } } },
  true: { pos: [] },
  false: { pos: [] },
  not: { pos: [], tests: 'one' },
  allof: { pos: [], tests: 'list' },
  anyof: { pos: [], tests: 'list' },
  body: {
    ext: ['body'],
    pos: ['l'],
    tags: {
      ...CM,
      raw: { group: 'transform' },
      content: { arg: 'l', group: 'transform' },
      text: { group: 'transform' },
    },
  },
  date: {
    ext: ['date'],
    pos: ['s', 's', 'l'],
    tags: { ...CM, ...INDEX, zone: { arg: 's', group: 'zone' }, originalzone: { group: 'zone' } },
  },
  currentdate: { ext: ['date'], pos: ['s', 'l'], tags: { ...CM, zone: { arg: 's' } } },
  string: { ext: ['variables'], pos: ['l', 'l'], tags: CM },
  hasflag: { ext: ['imap4flags'], pos: ['l', 'l'], minPos: 1, tags: CM },
  mailboxexists: { ext: ['mailbox'], pos: ['l'] },
  mailboxidexists: { ext: ['mailboxid'], pos: ['l'] },
  metadata: { ext: ['mboxmetadata'], pos: ['s', 's', 'l'], tags: CM },
  metadataexists: { ext: ['mboxmetadata'], pos: ['s', 'l'] },
  servermetadata: { ext: ['servermetadata'], pos: ['s', 'l'], tags: CM },
  servermetadataexists: { ext: ['servermetadata'], pos: ['l'] },
  duplicate: {
    ext: ['duplicate'],
    pos: [],
    tags: {
      handle: { arg: 's' },
      header: { arg: 's', group: 'id' },
      uniqueid: { arg: 's', group: 'id' },
      seconds: { arg: 'n' },
      last: {},
    },
  },
  valid_notify_method: { ext: ['enotify'], pos: ['l'] },
  notify_method_capability: { ext: ['enotify'], pos: ['s', 's', 'l'], tags: CM },
  spamtest: {
    ext: ['spamtest', 'spamtestplus'],
    pos: ['s'],
    tags: { ...CM, percent: { ext: 'spamtestplus' } },
  },
  virustest: { ext: ['virustest'], pos: ['s'], tags: CM },
  specialuse_exists: { ext: ['special-use'], pos: ['l', 'l'], minPos: 1 },
  ihave: { ext: ['ihave'], pos: ['l'] },
  environment: { ext: ['environment'], pos: ['s', 'l'], tags: CM },
};

const DATE_PARTS = new Set([
  'year',
  'month',
  'day',
  'date',
  'julian',
  'hour',
  'minute',
  'second',
  'time',
  'iso8601',
  'std11',
  'zone',
  'weekday',
]);
const REL_OPS = new Set(['gt', 'ge', 'lt', 'le', 'eq', 'ne']);
const COMPARATORS: Record<string, string | null> = {
  'i;octet': null,
  'i;ascii-casemap': null,
  'i;ascii-numeric': 'comparator-i;ascii-numeric',
};

export class SieveCheckError extends Error {
  constructor(readonly errors: string[]) {
    super(errors.join('\r\n'));
    this.name = 'SieveCheckError';
  }
}

/** Decode RFC 5228 2.4.2.4 `${hex:..}` / `${unicode:..}`; malformed sequences stay as written. */
export function decodeEncodedCharacters(s: string): string {
  return s.replace(/\$\{(hex|unicode):([\s0-9a-fA-F]*)\}/gi, (whole, kind: string, body: string) => {
    const parts = body.trim().split(/\s+/).filter(Boolean);
    if (kind.toLowerCase() === 'hex') {
      if (parts.some((p) => p.length > 2 && !/^0*[0-9a-f]{1,2}$/i.test(p))) return whole;
      return Buffer.from(parts.map((p) => parseInt(p, 16))).toString('utf8');
    }
    const cps = parts.map((p) => parseInt(p, 16));
    if (cps.some((c) => c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)))
      throw new Error('invalid unicode code point');
    return String.fromCodePoint(...cps);
  });
}

/**
 * Check a script against the enabled capabilities. Returns the compiled form or throws
 * SieveSyntaxError (parse) / SieveCheckError (all semantic errors found, "line N: ...").
 */
export function compileScript(src: string, enabled: Set<string>): Compiled {
  const cmds = parseScript(src);
  const errors: string[] = [];
  const requires = new Set<string>();
  const err = (line: number, msg: string): void => {
    if (errors.length < 20) errors.push(`line ${line}: ${msg}`);
  };
  let requireAllowed = true;

  const has = (ext: string): boolean => requires.has(ext);

  const str = (s: string, line: number): string => {
    if (!has('encoded-character')) return s;
    try {
      return decodeEncodedCharacters(s);
    } catch (e) {
      err(line, (e as Error).message);
      return s;
    }
  };

  const convert = (a: Arg, want: ArgType, line: number, what: string): Val | undefined => {
    if (want === 'n') {
      if (a.kind !== 'number') return (err(line, `${what}: expected a number`), undefined);
      return a.value;
    }
    if (a.kind === 'string') return want === 'l' ? [str(a.value, line)] : str(a.value, line);
    if (a.kind === 'list') {
      if (want === 's') return (err(line, `${what}: expected a string, got a string list`), undefined);
      return a.values.map((v) => str(v, line));
    }
    err(line, `${what}: expected a ${want === 's' ? 'string' : 'string list'}`);
    return undefined;
  };

  const node = (name: string, args: Arg[], tests: Test[], line: number, spec: Spec, kind: string): CNode => {
    const out: CNode = { name, tags: {}, pos: [], tests: [], line };
    if (spec.ext && !spec.ext.some(has)) {
      err(line, `${kind} "${name}" requires the "${spec.ext[0]}" extension (missing require)`);
    }
    const groups = new Map<string, string>();
    let i = 0;
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a.kind !== 'tag') break;
      const ts = spec.tags?.[a.name];
      if (!ts) {
        err(a.pos.line, `unknown tag ":${a.name}" for ${kind} "${name}"`);
        continue;
      }
      if (ts.ext && !has(ts.ext))
        err(a.pos.line, `":${a.name}" requires the "${ts.ext}" extension (missing require)`);
      if (a.name in out.tags) err(a.pos.line, `duplicate tag ":${a.name}"`);
      if (ts.group) {
        const prev = groups.get(ts.group);
        if (prev) err(a.pos.line, `":${a.name}" conflicts with ":${prev}"`);
        groups.set(ts.group, a.name);
      }
      if (ts.arg) {
        const v = args[i + 1];
        if (!v || v.kind === 'tag') {
          err(a.pos.line, `":${a.name}" needs an argument`);
          out.tags[a.name] = ts.arg === 'n' ? 0 : '';
          continue;
        }
        i++;
        out.tags[a.name] = convert(v, ts.arg, v.pos.line, `:${a.name}`) ?? '';
      } else out.tags[a.name] = true;
    }
    const rest = args.slice(i);
    for (const a of rest)
      if (a.kind === 'tag') err(a.pos.line, `tag ":${a.name}" must come before positional arguments`);
    const positional = rest.filter((a) => a.kind !== 'tag');
    const min = spec.minPos ?? spec.pos.length;
    if (positional.length < min || positional.length > spec.pos.length) {
      err(line, `wrong number of arguments for ${kind} "${name}"`);
    } else {
      // with an optional leading argument (setflag, hasflag, deleteheader), types align from the end
      const offset = name === 'deleteheader' ? 0 : spec.pos.length - positional.length;
      positional.forEach((a, j) => {
        const v = convert(a, spec.pos[j + offset]!, a.pos.line, `${kind} "${name}"`);
        if (v !== undefined) out.pos.push(v);
      });
    }
    const ntests = spec.tests ?? 'none';
    if (ntests === 'none' && tests.length) err(line, `${kind} "${name}" takes no test`);
    if (ntests === 'one' && tests.length !== 1) err(line, `${kind} "${name}" needs exactly one test`);
    if (ntests === 'list' && tests.length === 0) err(line, `${kind} "${name}" needs a test list`);
    out.tests = tests.map((t) => checkTest(t));
    validateCommon(out);
    return out;
  };

  const validateCommon = (n: CNode): void => {
    const comp = n.tags.comparator;
    if (typeof comp === 'string') {
      if (!(comp in COMPARATORS)) err(n.line, `unknown comparator "${comp}"`);
      else {
        const need = COMPARATORS[comp];
        if (need && !has(need)) err(n.line, `comparator "${comp}" requires "${need}" (missing require)`);
      }
      if (comp === 'i;ascii-numeric' && n.tags.regex)
        err(n.line, ':regex cannot be used with i;ascii-numeric');
    }
    for (const rel of ['value', 'count'] as const) {
      const op = n.tags[rel];
      if (typeof op === 'string' && !REL_OPS.has(op.toLowerCase()))
        err(n.line, `invalid relational operator "${op}"`);
    }
    if (n.tags.regex && !has('variables')) {
      const keys = n.pos[n.pos.length - 1];
      for (const k of Array.isArray(keys) ? keys : []) {
        if (compileSieveRegex(k, false) === null) err(n.line, `invalid regular expression "${k}"`);
      }
    }
    if (n.tags.last && !('index' in n.tags) && n.name !== 'duplicate' && n.name !== 'addheader')
      err(n.line, ':last requires :index');
  };

  const checkTest = (t: Test): CNode => {
    const spec = TESTS[t.name];
    if (!spec) {
      err(t.pos.line, `unknown test "${t.name}"`);
      return { name: 'false', tags: {}, pos: [], tests: [], line: t.pos.line };
    }
    const n = node(t.name, t.args, t.tests, t.pos.line, spec, 'test');
    if (t.name === 'date' || t.name === 'currentdate') {
      const part = n.pos[t.name === 'date' ? 1 : 0];
      if (typeof part === 'string' && !DATE_PARTS.has(part.toLowerCase()) && !has('variables'))
        err(n.line, `unknown date-part "${part}"`);
    }
    if (t.name === 'size' && !n.tags.over && !n.tags.under) err(n.line, 'size needs :over or :under');
    return n;
  };

  const checkBlock = (list: Command[], top: boolean): CNode[] => {
    const out: CNode[] = [];
    let prev: string | null = null;
    for (const c of list) {
      const line = c.pos.line;
      if (c.name === 'require') {
        if (!top || !requireAllowed) err(line, 'require must come before any other command');
        const a = c.args[0];
        const caps = a?.kind === 'string' ? [a.value] : a?.kind === 'list' ? a.values : [];
        if (!a || c.args.length !== 1 || (a.kind !== 'string' && a.kind !== 'list'))
          err(line, 'require needs a string list');
        for (const cap of caps) {
          const w = cap.toLowerCase() === 'imapflags' ? 'imap4flags' : cap.toLowerCase();
          if (!enabled.has(w)) err(line, `Unsupported feature "${cap}"`);
          else requires.add(w);
        }
        prev = 'require';
        continue;
      }
      requireAllowed = false;
      const legacyNotify = requires.has('notify') && !requires.has('enotify');
      const spec =
        c.name === 'notify' && legacyNotify
          ? LEGACY_NOTIFY
          : c.name === 'denotify'
            ? DENOTIFY
            : COMMANDS[c.name];
      if (!spec) {
        err(line, `unknown command "${c.name}"`);
        prev = c.name;
        continue;
      }
      if ((c.name === 'elsif' || c.name === 'else') && prev !== 'if' && prev !== 'elsif')
        err(line, `${c.name} without a preceding if`);
      if (spec.block && !c.block) err(line, `${c.name} needs a block`);
      if (!spec.block && c.block) err(line, `${c.name} takes no block`);
      const n = node(c.name, c.args, c.tests, line, spec, 'command');
      if (spec === LEGACY_NOTIFY) n.name = 'notify_legacy';
      if (c.block) {
        // RFC 5463: a block guarded by an ihave of unavailable capabilities is not checked
        const guard = n.tests[0];
        const unavailable =
          (c.name === 'if' || c.name === 'elsif') &&
          guard?.name === 'ihave' &&
          (guard.pos[0] as string[]).some((w) => !enabled.has(w.toLowerCase()));
        n.block = unavailable ? [] : checkBlock(c.block, false);
      }
      if (
        c.name === 'set' &&
        typeof n.pos[0] === 'string' &&
        !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(n.pos[0])
      )
        err(line, `invalid variable name "${n.pos[0]}"`);
      out.push(n);
      prev = c.name;
    }
    return out;
  };

  // ihave (RFC 5463): a capability an ihave test names, when available, may be used without
  // its own require (the guarded block only runs when it is there)
  const preRequire = (list: Command[]): void => {
    for (const c of list) {
      for (const t of c.tests)
        if (t.name === 'ihave')
          for (const a of t.args) {
            const caps = a.kind === 'string' ? [a.value] : a.kind === 'list' ? a.values : [];
            for (const cap of caps) if (enabled.has(cap.toLowerCase())) requires.add(cap.toLowerCase());
          }
      if (c.block) preRequire(c.block);
    }
  };

  const top = checkBlock(
    (() => {
      // collect requires first so that ihave can see whether "ihave" itself was required
      for (const c of cmds) {
        if (c.name !== 'require') break;
        const a = c.args[0];
        const caps = a?.kind === 'string' ? [a.value] : a?.kind === 'list' ? a.values : [];
        for (const cap of caps)
          if (cap.toLowerCase() === 'ihave' && enabled.has('ihave')) requires.add('ihave');
      }
      if (requires.has('ihave')) preRequire(cmds);
      return cmds;
    })(),
    true,
  );
  if (errors.length) throw new SieveCheckError(errors);
  for (const w of requires)
    if (!IMPLEMENTED.has(w)) throw new SieveCheckError([`line 1: Unsupported feature "${w}"`]);
  return { version: COMPILED_VERSION, requires: [...requires], commands: top };
}

/** Errors of a script as Cyrus prints them (one "line N: msg" per line), or [] when it is fine. */
export function checkScript(src: string, enabled: Set<string>): string[] {
  try {
    compileScript(src, enabled);
    return [];
  } catch (e) {
    if (e instanceof SieveSyntaxError) return [e.message];
    if (e instanceof SieveCheckError) return e.errors;
    throw e;
  }
}
