/**
 * Our server, started the way bench/peers.ts starts Dovecot and Cyrus, behind the same
 * `PeerServer` interface, so the comparison benchmarks treat all three alike.
 *
 * Owns: `startOurs` — a temp folder with imapd.conf and cyrus.conf (imap, pop3 and `lmtpd -a`
 * on free loopback ports), users bench1..N created with the real `cyr_saslpasswd -p -c`
 * (password on standard input), `cyr_master -D` as a child process, readiness (the imap port
 * imap, pop3 and lmtp ports answer with a greeting), memory (the whole process tree) and stopping exactly that child.
 * Master's log goes to master.log in the temp folder (kept when `BENCH_KEEP=1`).
 * imap and lmtp run two workers each (prefork=2: one per core of the 2-core machines we
 * measure on, as doc/examples/normal advises); Dovecot and Cyrus fork a process per connection.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  freePort,
  removeData,
  treeRssKiB,
  type Endpoint,
  type PeerOptions,
  type PeerServer,
} from './peers.js';

const BIN = fileURLToPath(new URL('../src/bin/', import.meta.url));

/** Resolves once a server on ep sends its first line (a greeting), retrying refused connections. */
async function waitForGreeting(ep: Endpoint, ms: number, alive: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((res) => {
      const s = connect(ep.port, ep.host);
      const t = setTimeout(() => (s.destroy(), res(false)), 3000);
      s.once('data', () => {
        clearTimeout(t);
        s.destroy();
        res(true);
      });
      s.once('error', () => (clearTimeout(t), res(false)));
    });
    if (ok) return;
    if (!alive()) throw new Error('cyr_master exited during startup');
    if (Date.now() > deadline) throw new Error(`no greeting from ${ep.host}:${ep.port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startOurs(opts: PeerOptions): Promise<PeerServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ours-'));
  for (const d of ['conf', 'spool', 'sieve', 'socket']) mkdirSync(join(dir, d), { recursive: true });
  const [imap, pop3, lmtp] = [await freePort(), await freePort(), await freePort()];
  const users = Array.from({ length: opts.users }, (_, i) => ({
    user: `bench${i + 1}`,
    pass: opts.password ?? 'benchpw',
  }));
  const conf = join(dir, 'imapd.conf');
  writeFileSync(
    conf,
    [
      `configdirectory: ${dir}/conf`,
      `partition-default: ${dir}/spool`,
      'defaultpartition: default',
      `sievedir: ${dir}/sieve`,
      `lmtpsocket: ${dir}/socket/lmtp`,
      `idlesocket: ${dir}/socket/idle`,
      `notifysocket: ${dir}/socket/notify`,
      'servername: ours-bench',
      'sasl_pwcheck_method: auxprop',
      `sasl_sasldb_path: ${dir}/sasldb`,
      'sasl_mech_list: PLAIN LOGIN',
      'allowplaintext: yes',
      'altnamespace: no',
      'unixhierarchysep: no',
      'autocreate_quota: 0',
      'autocreate_post: yes',
      'popminpoll: 0',
      'failedloginpause: 0',
      '',
    ].join('\n'),
  );
  const cyrusConf = join(dir, 'cyrus.conf');
  writeFileSync(
    cyrusConf,
    `SERVICES {
  imap cmd="imapd -C ${conf}" listen="127.0.0.1:${imap}" prefork=1
  pop3 cmd="pop3d -C ${conf}" listen="127.0.0.1:${pop3}" prefork=1
  lmtp cmd="lmtpd -a -C ${conf}" listen="127.0.0.1:${lmtp}" prefork=2
}
`,
  );
  for (const u of users) {
    const r = spawnSync(process.execPath, [join(BIN, 'cyr_saslpasswd.js'), '-C', conf, '-p', '-c', u.user], {
      input: `${u.pass}\n`,
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`cyr_saslpasswd ${u.user} failed: ${(r.stderr || r.stdout).trim()}`);
    }
  }
  const logFd = openSync(join(dir, 'master.log'), 'a');
  const child = spawn(process.execPath, [join(BIN, 'cyr_master.js'), '-D', '-C', conf, '-M', cyrusConf], {
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  const ep = (port: number): Endpoint => ({ host: '127.0.0.1', port });
  const stop = async (o?: { keepData?: boolean }): Promise<void> => {
    if (alive()) {
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const t = setTimeout(() => alive() && child.kill('SIGKILL'), 10_000);
      await done;
      clearTimeout(t);
    }
    if (process.env.BENCH_KEEP === '1') console.error(`(kept ${dir})`);
    else if (!o?.keepData) removeData(dir);
  };
  try {
    for (const port of [imap, pop3, lmtp]) await waitForGreeting(ep(port), 20_000, alive);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    name: 'ours',
    imap: ep(imap),
    pop3: ep(pop3),
    lmtp: ep(lmtp),
    users,
    rssKiB: () => treeRssKiB([child.pid!]),
    dataDir: dir,
    stop,
  };
}
