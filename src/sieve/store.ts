/**
 * Where Sieve scripts live: Cyrus's legacy sievedir layout (storage.md section 7).
 *
 *   <sievedir>/<h>/<user>/<name>.script   the source as uploaded
 *   <sievedir>/<h>/<user>/<name>.bc       our compiled form: a first line
 *                                         "CYRUS-TS-SIEVE <COMPILED_VERSION>" then the JSON tree
 *   <sievedir>/<h>/<user>/defaultbc       symlink to the active script's .bc
 *   with virtdomains: <sievedir>/domain/<hd>/<domain>/<h>/<localpart>/
 *   global scripts (admins, :global include): <sievedir>/global/
 * `<h>` is Cyrus's non-full dir hash: the lower-cased first letter, 'q' for anything else.
 * Compiled forms are recompiled when older than the source or of another version, and kept in
 * a small in-process cache keyed by path and mtime. Writes go to a temp name then rename.
 *
 * Owns: `SieveStore` (list/get/put/delete/rename/activate, limits sieve_maxscripts and
 * sieve_maxscriptsize are checked by callers through `limits()`), script name rules.
 * Imports: config api, checker.ts, extensions.ts, node fs.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ImapdConf } from '../config/api.js';
import { compileScript, COMPILED_VERSION, type Compiled } from './checker.js';
import { enabledExtensions } from './extensions.js';

const BC_MAGIC = 'CYRUS-TS-SIEVE';

export class SieveStoreError extends Error {
  constructor(
    readonly code: 'NONEXISTENT' | 'ALREADYEXISTS' | 'ACTIVE' | 'BADNAME',
    message: string,
  ) {
    super(message);
    this.name = 'SieveStoreError';
  }
}

/** RFC 5804 1.6 script names: UTF-8, no controls; we also refuse '/' and a leading '.' (files). */
export function validScriptName(name: string): boolean {
  if (name.length === 0 || Buffer.byteLength(name) > 200) return false;

  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029/]/.test(name)) return false;
  return !name.startsWith('.');
}

function dirHash(s: string): string {
  const c = (s[0] ?? 'q').toLowerCase();
  return c >= 'a' && c <= 'z' ? c : 'q';
}

const cache = new Map<string, { mtimeMs: number; compiled: Compiled }>();

/** The home directory of a local account, from the passwd file (sieveusehomedir), or null. */
export function homeDirectory(user: string, passwd = '/etc/passwd'): string | null {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 7 && f[0] === user) return f[5] || null;
  }
  return null;
}

/**
 * sieveusehomedir: the script `~user/.sieve`, compiled (cached by mtime), or null when the
 * user has no home or no such file. Throws when it does not compile.
 */
export function homeScript(user: string, enabled: Set<string>, passwd?: string): Compiled | null {
  const home = homeDirectory(user, passwd);
  if (!home) return null;
  const path = join(home, '.sieve');
  let st;
  try {
    st = statSync(path);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  const hit = cache.get(path);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.compiled;
  const compiled = compileScript(readFileSync(path, 'utf8'), enabled);
  cache.set(path, { mtimeMs: st.mtimeMs, compiled });
  return compiled;
}

/** one SieveStore per loaded configuration (delivery asks for it once per recipient) */
const perConf = new WeakMap<ImapdConf, SieveStore>();

export class SieveStore {
  /** the store for `conf`, made once (its settings are read from conf at construction) */
  static for(conf: ImapdConf): SieveStore {
    let s = perConf.get(conf);
    if (!s) perConf.set(conf, (s = new SieveStore(conf)));
    return s;
  }

  readonly sievedir: string;
  readonly enabled: Set<string>;
  readonly #virtDomains: boolean;

  constructor(readonly conf: ImapdConf) {
    this.sievedir = conf.getString('sievedir') ?? '/usr/sieve';
    this.enabled = enabledExtensions(conf);
    let vd = false;
    try {
      vd = conf.getEnum('virtdomains') !== 'off';
    } catch {
      vd = false;
    }
    this.#virtDomains = vd;
  }

  limits(): { maxScripts: number; maxSize: number } {
    return {
      maxScripts: this.conf.getInt('sieve_maxscripts'),
      maxSize: this.conf.getBytes('sieve_maxscriptsize'),
    };
  }

  /** the directory of a user's scripts; null userid = global scripts */
  dir(userid: string | null): string {
    if (userid === null) return join(this.sievedir, 'global');
    const at = userid.lastIndexOf('@');
    if (this.#virtDomains && at > 0) {
      const local = userid.slice(0, at);
      const domain = userid.slice(at + 1);
      return join(this.sievedir, 'domain', dirHash(domain), domain, dirHash(local), local);
    }
    return join(this.sievedir, dirHash(userid), userid);
  }

  /** script names with the active flag, sorted */
  list(userid: string | null): { name: string; active: boolean }[] {
    const d = this.dir(userid);
    let files: string[];
    try {
      files = readdirSync(d);
    } catch {
      return [];
    }
    const active = this.activeName(userid);
    return files
      .filter((f) => f.endsWith('.script') && !f.startsWith('.'))
      .map((f) => f.slice(0, -7))
      .sort()
      .map((name) => ({ name, active: name === active }));
  }

  exists(userid: string | null, name: string): boolean {
    return validScriptName(name) && existsSync(join(this.dir(userid), `${name}.script`));
  }

  /** the source, or null */
  get(userid: string | null, name: string): Buffer | null {
    if (!validScriptName(name)) return null;
    try {
      return readFileSync(join(this.dir(userid), `${name}.script`));
    } catch {
      return null;
    }
  }

  /** total bytes of a user's scripts other than `except` (HAVESPACE / PUTSCRIPT accounting) */
  usage(userid: string | null, except?: string): { count: number; bytes: number } {
    let count = 0;
    let bytes = 0;
    for (const s of this.list(userid)) {
      if (s.name === except) continue;
      count++;
      try {
        bytes += statSync(join(this.dir(userid), `${s.name}.script`)).size;
      } catch {
        /* vanished */
      }
    }
    return { count, bytes };
  }

  /**
   * Store a script: compile first (throws SieveSyntaxError/SieveCheckError, nothing written),
   * then write source and compiled form atomically.
   */
  put(userid: string | null, name: string, source: Buffer): Compiled {
    if (!validScriptName(name)) throw new SieveStoreError('BADNAME', 'Invalid script name');
    const compiled = compileScript(source.toString('utf8'), this.enabled);
    const d = this.dir(userid);
    mkdirSync(d, { recursive: true });
    const tmp = join(d, `.${name}.${process.pid}.tmp`);
    writeFileSync(tmp, source);
    const src = join(d, `${name}.script`);
    renameSync(tmp, src);
    this.#writeBc(d, name, compiled);
    cache.set(src, { mtimeMs: statSync(src).mtimeMs, compiled });
    return compiled;
  }

  #writeBc(d: string, name: string, compiled: Compiled): void {
    const tmp = join(d, `.${name}.${process.pid}.bctmp`);
    writeFileSync(tmp, `${BC_MAGIC} ${COMPILED_VERSION}\n${JSON.stringify(compiled)}`);
    renameSync(tmp, join(d, `${name}.bc`));
  }

  delete(userid: string | null, name: string): void {
    if (!this.exists(userid, name)) throw new SieveStoreError('NONEXISTENT', 'Script does not exist');
    if (this.activeName(userid) === name)
      throw new SieveStoreError('ACTIVE', 'Active script cannot be deleted');
    const d = this.dir(userid);
    unlinkSync(join(d, `${name}.script`));
    try {
      unlinkSync(join(d, `${name}.bc`));
    } catch {
      /* no compiled form */
    }
  }

  rename(userid: string | null, from: string, to: string): void {
    if (!this.exists(userid, from)) throw new SieveStoreError('NONEXISTENT', 'Script does not exist');
    if (!validScriptName(to)) throw new SieveStoreError('BADNAME', 'Invalid script name');
    if (this.exists(userid, to)) throw new SieveStoreError('ALREADYEXISTS', 'Script already exists');
    const d = this.dir(userid);
    const wasActive = this.activeName(userid) === from;
    renameSync(join(d, `${from}.script`), join(d, `${to}.script`));
    try {
      renameSync(join(d, `${from}.bc`), join(d, `${to}.bc`));
    } catch {
      /* recompiled on demand */
    }
    if (wasActive) this.setActive(userid, to);
  }

  /** the active script's name, or null */
  activeName(userid: string | null): string | null {
    const link = join(this.dir(userid), 'defaultbc');
    // most users have no script: lstat answers that without building an ENOENT error (a
    // thrown readlink costs ~20 us per delivery)
    if (!lstatSync(link, { throwIfNoEntry: false })) return null;
    try {
      const target = readlinkSync(link);
      const base = target.split('/').pop() ?? '';
      return base.endsWith('.bc') ? base.slice(0, -3) : null;
    } catch {
      return null;
    }
  }

  /** make `name` active; '' deactivates (RFC 5804 2.8) */
  setActive(userid: string | null, name: string): void {
    const d = this.dir(userid);
    const link = join(d, 'defaultbc');
    if (name === '') {
      try {
        unlinkSync(link);
      } catch {
        /* nothing active */
      }
      return;
    }
    if (!this.exists(userid, name)) throw new SieveStoreError('NONEXISTENT', 'Script does not exist');
    this.compiled(userid, name); // make sure the .bc is there and current
    const tmp = join(d, `.defaultbc.${process.pid}`);
    try {
      unlinkSync(tmp);
    } catch {
      /* none */
    }
    symlinkSync(`${name}.bc`, tmp);
    renameSync(tmp, link);
  }

  /**
   * The compiled script, from the cache, the .bc file, or by compiling the source (and
   * rewriting the .bc) when the .bc is missing, older than the source or of another version.
   * Returns null when the script does not exist. Throws when the source no longer compiles.
   */
  compiled(userid: string | null, name: string): Compiled | null {
    if (!validScriptName(name)) return null;
    const d = this.dir(userid);
    const src = join(d, `${name}.script`);
    const bc = join(d, `${name}.bc`);
    let srcStat;
    try {
      srcStat = statSync(src);
    } catch {
      return null;
    }
    const hit = cache.get(src);
    if (hit && hit.mtimeMs === srcStat.mtimeMs) return hit.compiled;
    let compiled: Compiled | null = null;
    try {
      const st = lstatSync(bc);
      if (st.mtimeMs >= srcStat.mtimeMs) {
        const text = readFileSync(bc, 'utf8');
        const nl = text.indexOf('\n');
        if (text.slice(0, nl) === `${BC_MAGIC} ${COMPILED_VERSION}`)
          compiled = JSON.parse(text.slice(nl + 1)) as Compiled;
      }
    } catch {
      compiled = null;
    }
    if (!compiled) {
      compiled = compileScript(readFileSync(src, 'utf8'), this.enabled);
      try {
        this.#writeBc(d, name, compiled);
      } catch {
        /* read-only sievedir: still usable */
      }
    }
    if (cache.size > 500) cache.clear();
    cache.set(src, { mtimeMs: srcStat.mtimeMs, compiled });
    return compiled;
  }
}
