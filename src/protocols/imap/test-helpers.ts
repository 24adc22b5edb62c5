/**
 * Test helpers for imapd (not a test file): a real server (real config reader, store, sasldb
 * and authenticator) on a loopback port in a temp directory, and a raw IMAP client that
 * sends tagged commands and collects the response lines (literals included).
 * Used by the unit tests beside this file, test/interop/imap*.test.ts and bench/imap.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SasldbStore } from '../../auth/sasldb.js';
import { loadImapdConf } from '../../config/imapd-conf.js';
import type { ImapdConf } from '../../config/api.js';
import { serveForTest, type TestServer } from '../../services/harness.js';
import imapd from './service.js';

export interface TestImapd {
  port: number;
  dir: string;
  conf: ImapdConf;
  server: TestServer;
  stop(): Promise<void>;
}

/** Start imapd with users (userid → password) and extra imapd.conf lines. */
export async function startTestImapd(
  users: Record<string, string> = { fred: 'secret', bob: 'bobpw' },
  extra: Record<string, string> = {},
  argv: string[] = [],
): Promise<TestImapd> {
  const dir = mkdtempSync(join(tmpdir(), 'cyrus-imapd-'));
  const sasldb = join(dir, 'sasldb2');
  const lines: Record<string, string> = {
    configdirectory: join(dir, 'conf'),
    'partition-default': join(dir, 'spool'),
    defaultpartition: 'default',
    sasl_sasldb_path: sasldb,
    sasl_pwcheck_method: 'auxprop',
    allowplaintext: 'yes',
    autocreate_quota: '0',
    failedloginpause: '0',
    servername: 'imap.test',
    ...extra,
  };
  const confPath = join(dir, 'imapd.conf');
  writeFileSync(
    confPath,
    Object.entries(lines)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n',
  );
  const conf = loadImapdConf(confPath, { service: 'imap', warn: () => undefined });
  const db = new SasldbStore(sasldb);
  for (const [u, p] of Object.entries(users)) await db.setPassword(u, p, { create: true });
  const server = await serveForTest(imapd, { config: conf, service: 'imap', argv });
  return {
    port: server.port,
    dir,
    conf,
    server,
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  /** untagged and continuation lines, literals inlined */
  lines: string[];
  /** the tagged line without the tag */
  tagged: string;
}

/** A minimal raw IMAP client for tests: bytes in, lines out. */
export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private n = 0;
  closed = false;

  /** wrap an already connected socket (TLS tests) */
  static fromSocket(sock: Socket): RawClient {
    return new RawClient(sock);
  }

  /** forget the socket's listeners (before handing it to tls.connect) */
  release(): Socket {
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    return this.sock;
  }

  private constructor(readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.kick();
    });
    sock.on('close', () => {
      this.closed = true;
      this.kick();
    });
    sock.on('error', () => undefined);
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    const sock = connect(port, host);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    return new RawClient(sock);
  }

  private kick(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () =>
          reject(new Error(`timeout; buffered: ${JSON.stringify(this.buf.toString('latin1').slice(-300))}`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** one response line, with any literals it announces inlined */
  async line(timeoutMs = 5000): Promise<string> {
    let out = '';
    for (;;) {
      const lf = this.buf.indexOf(0x0a);
      if (lf < 0) {
        await this.more(timeoutMs);
        continue;
      }
      const l = this.buf.toString('latin1', 0, lf + 1);
      this.buf = this.buf.subarray(lf + 1);
      out += l.replace(/\r?\n$/, '');
      const m = /~?\{(\d+)\}$/.exec(out);
      if (!m) return out;
      const n = Number(m[1]);
      while (this.buf.length < n) await this.more(timeoutMs);
      out += '\r\n' + this.buf.toString('latin1', 0, n);
      this.buf = this.buf.subarray(n);
    }
  }

  write(s: string | Buffer): void {
    this.sock.write(s);
  }

  /** send `tag <cmd>` and read until the tagged reply */
  async cmd(cmd: string, timeoutMs = 5000): Promise<Reply> {
    const tag = `t${++this.n}`;
    this.write(`${tag} ${cmd}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 5000): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line(timeoutMs);
      if (l.startsWith(tag + ' ')) return { lines, tagged: l.slice(tag.length + 1) };
      lines.push(l);
    }
  }

  async login(user = 'fred', pass = 'secret'): Promise<void> {
    await this.line(); // greeting
    const r = await this.cmd(`LOGIN ${user} ${pass}`);
    if (!r.tagged.startsWith('OK')) throw new Error(`login failed: ${r.tagged}`);
  }

  close(): void {
    this.sock.destroy();
  }
}
