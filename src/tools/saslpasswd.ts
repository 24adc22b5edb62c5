/**
 * cyr_saslpasswd: manage users in our sasldb (the `auxprop` store), with saslpasswd2's flags.
 *
 *   cyr_saslpasswd [-C imapd.conf] [-f sasldb] [-u realm] [-a app] [-p] [-c] [-n] [-k] user
 *   cyr_saslpasswd [-C imapd.conf] [-f sasldb] [-u realm] -d user
 *   cyr_saslpasswd [-C imapd.conf] [-f sasldb] -l
 *
 *   -c  create the user (or replace the password of an existing one); without -c the user
 *       must exist already
 *   -d  delete the user
 *   -p  read the password from stdin (one line; "pipe mode", no prompt, no confirmation)
 *   -f  the sasldb file (default: sasl_sasldb_path of imapd.conf, else /etc/sasldb2)
 *   -u  realm: the user is stored as user@realm (with virtdomains, the mail domain; with
 *       virtdomains off realms do not exist and -u is ignored with a warning)
 *   -a  application name (accepted and ignored, as our store is shared by every service)
 *   -n  do not store the cleartext password — our default already; accepted for scripts
 *   -k  ours: also keep the cleartext password, which CRAM-MD5 and POP3 APOP need
 *   -l  ours: list the users (sasldblistusers2)
 *   -I file  ours: import every user of a Cyrus SASL sasldb (Berkeley DB, read with db_dump)
 *       into ours; realms equal to the server name are dropped (with virtdomains off, all
 *       realms are); -k keeps the cleartext as that file did
 *   -v  print the version
 * Without -p on a terminal the password is asked twice with echo off; from a pipe without -p
 * the first line is read, as with -p.
 *
 * User names are stored in canonical form (username_tolower, virtdomains, defaultdomain), the
 * form the servers look them up in, so `Fred` and `fred@<defaultdomain>` both mean `fred`.
 *
 * Exit codes: 0 done, 1 failed (no such user, empty password), 64 usage, 78 configuration.
 * Imports: src/config (tool loader), src/auth.
 */
import { EX_USAGE, loadConfigOrExitCode } from '../config/tool.js';
import type { LoadedImapdConf } from '../config/imapd-conf.js';
import { canonUser } from '../auth/identity.js';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { SasldbStore, sasldbPath } from '../auth/passwords.js';
import { readCyrusSasldb } from '../auth/sasldb-import.js';

const USAGE = `usage: cyr_saslpasswd [-C imapd.conf] [-f sasldb] [-u realm] [-a app] [-p] [-c] [-n] [-k] user
       cyr_saslpasswd [-C imapd.conf] [-f sasldb] [-u realm] -d user
       cyr_saslpasswd [-C imapd.conf] [-f sasldb] -l
       cyr_saslpasswd [-C imapd.conf] [-f sasldb] [-k] -I cyrus-sasldb
  -c create (or replace)   -d delete        -p password from stdin
  -f sasldb file           -u realm         -a appname (ignored)
  -n no cleartext (default) -k keep cleartext (CRAM-MD5, APOP)
  -l list users            -v version       -h help
  -I import the users of a Cyrus SASL (Berkeley DB) sasldb
`;

export interface SaslpasswdIO {
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  /** read the password: `confirm` asks twice on a terminal */
  readPassword: (pipe: boolean) => Promise<string>;
}

async function readStdinLine(): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of process.stdin as AsyncIterable<Buffer>) {
    chunks.push(c);
    total += c.length;
    if (c.includes(0x0a) || total > 64 * 1024) break;
  }
  process.stdin.pause();
  const all = Buffer.concat(chunks).toString('utf8');
  const nl = all.indexOf('\n');
  return (nl < 0 ? all : all.slice(0, nl)).replace(/\r$/, '');
}

async function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  let pw = '';
  try {
    for await (const chunk of stdin as AsyncIterable<Buffer>) {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return pw;
        if (ch === '\u0003') throw new Error('interrupted');
        if (ch === '\u007f' || ch === '\b') pw = pw.slice(0, -1);
        else pw += ch;
      }
    }
    return pw;
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}

const defaultIO: SaslpasswdIO = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
  readPassword: async (pipe) => {
    if (pipe || !process.stdin.isTTY) return readStdinLine();
    const a = await promptHidden('Password: ');
    const b = await promptHidden('Again (for verification): ');
    if (a !== b) throw new Error('passwords do not match');
    return a;
  },
};

async function importCyrus(
  conf: LoadedImapdConf,
  store: SasldbStore,
  from: string,
  keepCleartext: boolean,
  io: SaslpasswdIO,
): Promise<number> {
  if (resolve(from) === resolve(store.path)) {
    io.stderr('cyr_saslpasswd: -I needs a different target file (-f or sasl_sasldb_path)\n');
    return EX_USAGE;
  }
  const entries = await readCyrusSasldb(from);
  const serverRealm = (conf.getString('servername') ?? hostname()).toLowerCase();
  const virt = conf.getEnum('virtdomains') !== 'off';
  const seen = new Set<string>();
  let imported = 0;
  for (const e of entries) {
    if (e.property !== 'userPassword') continue;
    const r = e.realm.toLowerCase();
    const name = virt && r !== '' && r !== serverRealm ? `${e.user}@${e.realm}` : e.user;
    const userid = canonUser(conf, name);
    if (userid === null) {
      io.stderr(`cyr_saslpasswd: skipped "${name}": not a valid user name under this configuration\n`);
      continue;
    }
    if (seen.has(userid)) {
      io.stderr(
        `cyr_saslpasswd: skipped ${e.user}@${e.realm}: ${userid} was already imported from another realm\n`,
      );
      continue;
    }
    const password = e.value.toString('utf8');
    if (password === '') continue;
    seen.add(userid);
    await store.setPassword(userid, password, { keepCleartext });
    imported++;
  }
  io.stdout(`imported ${imported} user${imported === 1 ? '' : 's'} into ${store.path}\n`);
  return 0;
}

export async function main(argv: string[], io: SaslpasswdIO = defaultIO): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    io.stdout(USAGE);
    return 0;
  }
  const loaded = loadConfigOrExitCode(argv, 'cyr_saslpasswd', io.stderr);
  if (typeof loaded === 'number') return loaded;
  const { conf, rest } = loaded;

  const flags = new Set<string>();
  let file: string | undefined;
  let realm: string | undefined;
  let importFrom: string | undefined;
  const users: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '-f' || a === '-u' || a === '-a' || a === '-I') {
      const v = rest[++i];
      if (v === undefined) {
        io.stderr(`cyr_saslpasswd: option ${a} needs a value\n${USAGE}`);
        return EX_USAGE;
      }
      if (a === '-f') file = v;
      else if (a === '-u') realm = v;
      else if (a === '-I') importFrom = v;
    } else if (/^-[cdpnklv]+$/.test(a)) {
      for (const ch of a.slice(1)) flags.add(ch);
    } else if (a.startsWith('-')) {
      io.stderr(`cyr_saslpasswd: unknown option ${a}\n${USAGE}`);
      return EX_USAGE;
    } else users.push(a);
  }
  if (flags.has('v')) {
    io.stdout('cyr_saslpasswd (cyrus-ts) sasldb: SQLite, scrypt + SCRAM-SHA-1/256 secrets\n');
    return 0;
  }
  const store = new SasldbStore(file ?? sasldbPath(conf));
  try {
    if (flags.has('l')) {
      if (users.length > 0) {
        io.stderr(`cyr_saslpasswd: -l takes no user\n`);
        return EX_USAGE;
      }
      for (const u of store.list()) io.stdout(`${u}\n`);
      return 0;
    }
    if (importFrom !== undefined) {
      if (users.length > 0 || flags.has('c') || flags.has('d') || flags.has('p')) {
        io.stderr(`cyr_saslpasswd: -I takes no user and no -c, -d or -p\n`);
        return EX_USAGE;
      }
      return await importCyrus(conf, store, importFrom, flags.has('k'), io);
    }
    if (users.length !== 1) {
      io.stderr(`cyr_saslpasswd: exactly one user name is needed\n${USAGE}`);
      return EX_USAGE;
    }
    if (flags.has('d') && (flags.has('c') || flags.has('p') || flags.has('k'))) {
      io.stderr(`cyr_saslpasswd: -d cannot be combined with -c, -p or -k\n`);
      return EX_USAGE;
    }
    if (flags.has('n') && flags.has('k')) {
      io.stderr(`cyr_saslpasswd: -n and -k contradict each other\n`);
      return EX_USAGE;
    }
    let name = users[0];
    if (realm !== undefined) {
      if (conf.getEnum('virtdomains') === 'off')
        io.stderr(`cyr_saslpasswd: warning: virtdomains is off, realm "${realm}" ignored\n`);
      else name = `${name}@${realm}`;
    }
    const userid = canonUser(conf, name);
    if (userid === null) {
      io.stderr(`cyr_saslpasswd: "${name}" is not a valid user name under this configuration\n`);
      return 1;
    }
    if (flags.has('d')) {
      if (!store.delete(userid)) {
        io.stderr(`cyr_saslpasswd: user ${userid} not found\n`);
        return 1;
      }
      return 0;
    }
    if (!flags.has('c') && !(await store.exists(userid))) {
      io.stderr(`cyr_saslpasswd: user ${userid} not found (use -c to create)\n`);
      return 1;
    }
    let password: string;
    try {
      password = await io.readPassword(flags.has('p'));
    } catch (e) {
      io.stderr(`cyr_saslpasswd: ${(e as Error).message}\n`);
      return 1;
    }
    if (password === '') {
      io.stderr('cyr_saslpasswd: empty password\n');
      return 1;
    }
    await store.setPassword(userid, password, { keepCleartext: flags.has('k') });
    return 0;
  } catch (e) {
    io.stderr(`cyr_saslpasswd: ${(e as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }
}
