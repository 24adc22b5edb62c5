/**
 * cyr_devsetup: the development configuration's START step (doc/examples/dev/cyrus.conf).
 *
 *   cyr_devsetup [-C imapd.conf] [-M cyrus.conf]
 *
 * If the sasldb has no user `dev`, creates it with a random password (kept in cleartext too,
 * so CRAM-MD5 and APOP can be tried) and remembers the password in
 * `<configdirectory>/dev-credentials` (mode 0600). Creates dev's INBOX through the store when
 * it can (else autocreate does it at first login). Then always prints a short banner: user,
 * password, and each SERVICES entry's listen address with its protocol.
 *
 * Exit codes: 0 done, 1 failure, 64 usage, 78 configuration.
 * Imports: src/config, src/auth, src/store.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { EX_CONFIG, EX_USAGE, loadConfigOrExitCode } from '../config/tool.js';
import { ConfigError, type CyrusConf, type ImapdConf, type ServiceEntry } from '../config/api.js';
import { defaultCyrusConfPath, loadCyrusConf } from '../config/cyrus-conf.js';
import { resolveListen } from '../config/services.js';
import { SasldbStore, sasldbPath } from '../auth/passwords.js';

const USAGE = 'usage: cyr_devsetup [-C imapd.conf] [-M cyrus.conf]\n';
export const DEV_USER = 'dev';

export interface DevsetupIO {
  stdout: (t: string) => void;
  stderr: (t: string) => void;
  /** create the INBOX; default: the store's ensureInbox (tests pass their own) */
  ensureInbox?: (conf: ImapdConf, userid: string) => Promise<void>;
}

/** What a SERVICES entry speaks, from its program and flags. */
export function protocolOf(s: ServiceEntry): string {
  const prog = (s.cmd[0] ?? '').replace(/^.*\//, '').replace(/^cyr_/, '');
  const tlsFlag = s.cmd.includes('-s');
  const names: Record<string, [string, string]> = {
    imapd: ['IMAP', 'IMAPS'],
    proxyd: ['IMAP', 'IMAPS'],
    pop3d: ['POP3', 'POP3S'],
    pop3proxyd: ['POP3', 'POP3S'],
    lmtpd: ['LMTP', 'LMTP'],
    lmtpproxyd: ['LMTP', 'LMTP'],
    timsieved: ['ManageSieve', 'ManageSieve'],
    nntpd: ['NNTP', 'NNTPS'],
    smmapd: ['sendmail socket map', 'sendmail socket map'],
    mupdate: ['MUPDATE', 'MUPDATE'],
    sync_server: ['csync', 'csync'],
    httpd: ['HTTP', 'HTTPS'],
  };
  const n = names[prog];
  return n ? n[tlsFlag ? 1 : 0] : prog || s.name;
}

function where(s: ServiceEntry): string {
  try {
    return resolveListen(s.listen, s.proto)
      .map((a) =>
        a.kind === 'unix' ? a.path : `${a.host ?? (a.family === 6 ? '[::]' : '0.0.0.0')}:${a.port}`,
      )
      .join(', ');
  } catch (e) {
    return `${s.listen} (${(e as Error).message})`;
  }
}

async function storeInbox(conf: ImapdConf, userid: string): Promise<void> {
  const { openStore } = await import('../store/index.js');
  const store = openStore(conf);
  try {
    store.ensureInbox(userid);
  } finally {
    store.close();
  }
}

export async function main(
  argv: string[],
  io: DevsetupIO = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
  },
): Promise<number> {
  if (argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const loaded = loadConfigOrExitCode(argv, 'cyr_devsetup', io.stderr);
  if (typeof loaded === 'number') return loaded;
  const { conf } = loaded;
  let cyrusPath = defaultCyrusConfPath();
  const rest = loaded.rest;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '-M' && rest[i + 1] !== undefined) cyrusPath = rest[++i];
    else {
      io.stderr(`cyr_devsetup: unexpected argument ${rest[i]}\n${USAGE}`);
      return EX_USAGE;
    }
  }
  let cyrus: CyrusConf | null = null;
  try {
    cyrus = loadCyrusConf(cyrusPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`cyr_devsetup: ${e.message}\n`);
      return EX_CONFIG;
    }
    throw e;
  }

  const credFile = join(conf.configDirectory, 'dev-credentials');
  const store = new SasldbStore(sasldbPath(conf));
  let password: string | null = null;
  try {
    if (!(await store.exists(DEV_USER))) {
      password = randomBytes(9).toString('base64url');
      await store.setPassword(DEV_USER, password, { keepCleartext: true });
      mkdirSync(conf.configDirectory, { recursive: true });
      writeFileSync(credFile, `user: ${DEV_USER}\npassword: ${password}\n`, { mode: 0o600 });
      chmodSync(credFile, 0o600);
      try {
        await (io.ensureInbox ?? storeInbox)(conf, DEV_USER);
      } catch (e) {
        io.stderr(
          `cyr_devsetup: INBOX not created now (${(e as Error).message}); it is created at first login\n`,
        );
      }
    } else if (existsSync(credFile)) {
      const m = /^password: (.*)$/m.exec(readFileSync(credFile, 'utf8'));
      password = m ? m[1] : null;
    }
  } catch (e) {
    io.stderr(`cyr_devsetup: ${(e as Error).message}\n`);
    return 1;
  } finally {
    store.close();
  }

  const lines = [
    '',
    '  cyrus-ts development server',
    `  user:     ${DEV_USER}`,
    `  password: ${password ?? `(set earlier; not in ${credFile}; change it with cyr_saslpasswd)`}`,
  ];
  for (const s of cyrus.services) lines.push(`  ${protocolOf(s).padEnd(20)} ${where(s)}   (${s.name})`);
  io.stdout(lines.join('\n') + '\n\n');
  return 0;
}
