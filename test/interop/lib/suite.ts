/**
 * End-to-end harness: the whole suite, started the way an administrator starts it.
 *
 * Owns: `startSuite` — writes a temp imapd.conf and cyrus.conf (127.0.0.1 on free ports, data
 * under a temp dir, plaintext allowed, a self-signed certificate made with the `openssl`
 * binary for imaps/pop3s/STARTTLS, autocreated INBOXes), runs the REAL
 * `node dist/src/bin/cyr_master.js -D -C … -M …` as a child process, waits for its ready file
 * and for every TCP port to accept, creates users with the real `cyr_saslpasswd` program, and
 * stops it with SIGTERM, waiting until the master and every process below it are gone (checked
 * in /proc).
 *
 * Imports: node built-ins, ./proc.ts, ./run.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { descendants, waitGone, type ProcId } from './proc.js';
import { run } from './run.js';

/** dist/ of this build (this file compiles to dist/test/interop/lib/suite.js) */
export const DIST = fileURLToPath(new URL('../../../', import.meta.url));
export const MASTER_JS = join(DIST, 'src/bin/cyr_master.js');
export const SASLPASSWD_JS = join(DIST, 'src/bin/cyr_saslpasswd.js');

export type ServiceName = 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'lmtp' | 'lmtpunix' | 'sieve' | 'smmap';
export const ALL_SERVICES: readonly ServiceName[] = [
  'imap',
  'imaps',
  'pop3',
  'pop3s',
  'lmtp',
  'lmtpunix',
  'sieve',
  'smmap',
];

export interface SuiteOptions {
  /** which SERVICES entries to run (default: all) */
  services?: ServiceName[];
  /** extra or overriding imapd.conf options */
  imapdConf?: Record<string, string>;
  /** how long to wait for the ready file (default 20 s: the machine is shared) */
  readyTimeoutMs?: number;
}

export interface Suite {
  /** the temp directory holding configuration, data and certificate */
  dir: string;
  /** imapd.conf path (pass as -C to tools) */
  conf: string;
  /** cyrus.conf path */
  cyrusConf: string;
  /** TCP port of each TCP service that runs */
  ports: Partial<Record<Exclude<ServiceName, 'lmtpunix'>, number>>;
  /** the lmtpunix socket path (also imapd.conf's lmtpsocket) */
  lmtpSocket: string;
  /** the self-signed certificate the TLS services present (CN=localhost, IP 127.0.0.1) */
  certFile: string;
  /** master's pid */
  pid: number;
  /** master's log lines (stdout and stderr), for failure messages */
  log: string[];
  /** create (or replace) a user with the real cyr_saslpasswd (`keepCleartext`: -k, for
   *  CRAM-MD5 and APOP) */
  addUser(user: string, pass: string, opts?: { keepCleartext?: boolean }): Promise<void>;
  /** SIGTERM master, wait until it and all its descendants are gone, remove the temp dir */
  stop(opts?: { keepDir?: boolean }): Promise<void>;
}

/** A free TCP port on 127.0.0.1: bind port 0, read it, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** A self-signed EC certificate for localhost / 127.0.0.1, made with the openssl binary. */
export async function makeSelfSigned(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'server.pem');
  const key = join(dir, 'server.key');
  const r = await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ]);
  if (r.code !== 0) throw new Error(`openssl req failed: ${r.err}`);
  return { cert, key };
}

/** cmd= and whether the entry listens on TCP, per service */
function serviceCmd(name: ServiceName, conf: string): string {
  switch (name) {
    case 'imap':
      return `imapd -C ${conf}`;
    case 'imaps':
      return `imapd -s -C ${conf}`;
    case 'pop3':
      return `pop3d -C ${conf}`;
    case 'pop3s':
      return `pop3d -s -C ${conf}`;
    case 'lmtp':
      return `lmtpd -a -C ${conf}`;
    case 'lmtpunix':
      return `lmtpd -C ${conf}`;
    case 'sieve':
      return `timsieved -C ${conf}`;
    case 'smmap':
      return `smmapd -C ${conf}`;
  }
}

function waitForFile(path: string, child: ChildProcess, timeoutMs: number, log: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (existsSync(path)) return resolve();
      if (child.exitCode !== null || child.signalCode !== null)
        return reject(
          new Error(
            `cyr_master exited (${child.exitCode ?? child.signalCode}) before ready; log:\n${log.join('\n')}`,
          ),
        );
      if (Date.now() - started > timeoutMs)
        return reject(new Error(`cyr_master not ready after ${timeoutMs} ms; log:\n${log.join('\n')}`));
      setTimeout(tick, 50);
    };
    tick();
  });
}

/** Resolve once something accepts TCP connections on `port` (a refused connect is retried). */
function waitForPort(port: number, child: ChildProcess, timeoutMs: number, log: string[]): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (child.exitCode !== null || child.signalCode !== null)
          return reject(new Error(`cyr_master exited before port ${port} accepted; log:\n${log.join('\n')}`));
        if (Date.now() - started > timeoutMs)
          return reject(
            new Error(`nothing accepts on port ${port} after ${timeoutMs} ms; log:\n${log.join('\n')}`),
          );
        setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startSuite(opts: SuiteOptions = {}): Promise<Suite> {
  const services = opts.services ?? [...ALL_SERVICES];
  const dir = mkdtempSync(join(tmpdir(), 'cyr-e2e-'));
  const confDir = join(dir, 'conf');
  const sockDir = join(confDir, 'socket');
  mkdirSync(sockDir, { recursive: true });
  mkdirSync(join(dir, 'spool'), { recursive: true });
  const conf = join(dir, 'imapd.conf');
  const cyrusConf = join(dir, 'cyrus.conf');
  const lmtpSocket = join(sockDir, 'lmtp');
  const readyFile = join(dir, 'master.ready');
  const { cert, key } = await makeSelfSigned(dir);

  const options: Record<string, string> = {
    configdirectory: confDir,
    defaultpartition: 'default',
    'partition-default': join(dir, 'spool'),
    sievedir: join(confDir, 'sieve'),
    servername: 'localhost',
    lmtpsocket: lmtpSocket,
    idlesocket: join(sockDir, 'idle'),
    notifysocket: join(sockDir, 'notify'),
    sasl_pwcheck_method: 'auxprop',
    sasl_sasldb_path: join(confDir, 'sasldb'),
    allowplaintext: 'yes',
    autocreate_quota: '0',
    autocreate_post: 'yes',
    tls_server_cert: cert,
    tls_server_key: key,
    ...opts.imapdConf,
  };
  writeFileSync(
    conf,
    '# written by test/interop/lib/suite.ts\n' +
      Object.entries(options)
        .map(([k, v]) => `${k}: ${v}\n`)
        .join(''),
  );

  const ports: Suite['ports'] = {};
  const lines: string[] = [];
  for (const s of services) {
    let listen: string;
    if (s === 'lmtpunix') listen = lmtpSocket;
    else {
      const port = await freePort();
      ports[s] = port;
      listen = `127.0.0.1:${port}`;
    }
    lines.push(`  ${s} cmd="${serviceCmd(s, conf)}" listen="${listen}"${s === 'imap' ? ' prefork=1' : ''}`);
  }
  writeFileSync(cyrusConf, `# written by test/interop/lib/suite.ts\nSERVICES {\n${lines.join('\n')}\n}\n`);

  const child = spawn(process.execPath, [MASTER_JS, '-D', '-C', conf, '-M', cyrusConf, '-r', readyFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid!;
  const log: string[] = [];
  let partial = '';
  const onData = (d: Buffer): void => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    log.push(...parts);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async (stopOpts: { keepDir?: boolean } = {}): Promise<void> => {
    const tree: ProcId[] = descendants(pid);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // master's own grace is 10 s; give it a little more before insisting
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    }
    const left = await waitGone(tree, 15_000);
    if (!stopOpts.keepDir) rmSync(dir, { recursive: true, force: true });
    if (left.length > 0)
      throw new Error(`processes left after cyr_master exited: ${left.map((p) => p.pid).join(' ')}`);
  };

  try {
    await waitForFile(readyFile, child, opts.readyTimeoutMs ?? 20_000, log);
    // master also declares itself ready when a service is in crash back-off; wait until every
    // TCP service really accepts
    for (const port of Object.values(ports))
      await waitForPort(port, child, opts.readyTimeoutMs ?? 20_000, log);
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }

  return {
    dir,
    conf,
    cyrusConf,
    ports,
    lmtpSocket,
    certFile: cert,
    pid,
    log,
    async addUser(user, pass, userOpts = {}) {
      const flags = ['-p', '-c', ...(userOpts.keepCleartext ? ['-k'] : [])];
      const r = await run(process.execPath, [SASLPASSWD_JS, '-C', conf, ...flags, user], {
        input: `${pass}\n`,
      });
      if (r.code !== 0) throw new Error(`cyr_saslpasswd -c ${user} exited ${r.code}: ${r.err}${r.out}`);
    },
    stop,
  };
}
