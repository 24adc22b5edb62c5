/**
 * Helpers for the tests of lmtp/, pop3/ and smmap/ (not a test file): a temporary site
 * (imapd.conf + store directories, loaded by the real config reader) and a line client that
 * reads replies by protocol rules.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImapdConf } from '../../config/api.js';
import { loadImapdConf } from '../../config/imapd-conf.js';

export interface Site {
  dir: string;
  confPath: string;
  conf(service: string): ImapdConf;
  cleanup(): void;
}

export function makeSite(extra: Record<string, string | number | boolean> = {}): Site {
  const dir = mkdtempSync(join(tmpdir(), 'cyrus-deliv-'));
  const lines = [
    `configdirectory: ${join(dir, 'conf')}`,
    `partition-default: ${join(dir, 'spool')}`,
    'defaultpartition: default',
    `temp_path: ${dir}`,
    'servername: test.example',
    'failedloginpause: 0',
    `sasl_sasldb_path: ${join(dir, 'sasldb2')}`,
  ];
  for (const [k, v] of Object.entries(extra))
    lines.push(`${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`);
  const confPath = join(dir, 'imapd.conf');
  writeFileSync(confPath, lines.join('\n') + '\n');
  return {
    dir,
    confPath,
    conf: (service) => loadImapdConf(confPath, { service, warn: () => undefined }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const live = new Set<LineClient>();

/**
 * Call in a test's setup and `destroyAll()` before stopping servers: a failed assertion must
 * not leave a client connected (the server's close would wait for it forever).
 */
export function trackClients(): { destroyAll(): void } {
  return {
    destroyAll() {
      for (const c of live) c.sock.destroy();
      live.clear();
    },
  };
}

/** A client reading whole replies: SMTP-style (`NNN-` continued, `NNN ` last) or POP3 lines. */
export class LineClient {
  readonly sock: Socket;
  #buf = '';
  #waiters: (() => void)[] = [];
  closed = false;

  private constructor(sock: Socket) {
    this.sock = sock;
    live.add(this);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.#buf += d;
      this.#wake();
    });
    sock.on('close', () => {
      live.delete(this);
      this.closed = true;
      this.#wake();
    });
    sock.on('error', () => undefined);
  }

  static async open(target: { port: number } | { path: string }): Promise<LineClient> {
    const sock = 'path' in target ? connect(target.path) : connect(target.port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    return new LineClient(sock);
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  async #until(pred: () => number): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const n = pred();
      if (n >= 0) {
        const out = this.#buf.slice(0, n);
        this.#buf = this.#buf.slice(n);
        return out;
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.#buf)}`);
      if (Date.now() > deadline)
        throw new Error(`no complete reply in 10 s; unread: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 1000);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** the next complete SMTP/LMTP reply (all its lines) */
  reply(): Promise<string> {
    return this.#until(() => {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.#buf);
      return m ? m[0].length : -1;
    });
  }

  /** the next line */
  line(): Promise<string> {
    return this.#until(() => {
      const i = this.#buf.indexOf('\n');
      return i < 0 ? -1 : i + 1;
    });
  }

  /** a POP3 multi-line response up to and including ".\r\n" */
  multi(): Promise<string> {
    return this.#until(() => {
      if (this.#buf.startsWith('-ERR')) return this.#buf.indexOf('\n') + 1 || -1;
      if (this.#buf.startsWith('.\r\n')) return 3;
      const i = this.#buf.indexOf('\r\n.\r\n');
      return i < 0 ? -1 : i + 5;
    });
  }

  send(text: string | Buffer): void {
    this.sock.write(text);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.sock.end();
    await new Promise<void>((r) => {
      if (this.closed) r();
      else this.sock.once('close', () => r());
    });
  }
}

/** a message with a Message-ID */
export function mail(id: string, body = 'hello\r\n', subject = 'test'): string {
  return `From: a@example.org\r\nTo: b@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\n\r\n${body}`;
}

export interface RunningSite {
  site: Site;
  store: import('../../store/api.js').Store;
  /** lmtpd on a unix socket (pre-authorised) */
  lmtpSocket: string;
  /** lmtpd on TCP, `-a` (pre-authorised) */
  lmtpPort: number;
  /** lmtpd on TCP, AUTH required */
  lmtpAuthPort: number;
  pop3Port: number;
  smmapPort: number;
  stop(): Promise<void>;
}

/**
 * A whole delivery site for the interop tests: users fred/secret (cleartext kept, for APOP),
 * bob/bobpw and the admin cyrus/adminpw in sasldb, INBOXes for fred and bob, and lmtpd, pop3d
 * and smmapd listening. The site directory is world-searchable and the LMTP socket
 * world-writable, so an MTA running as another user (Postfix) can connect.
 */
export async function startDeliverySite(
  extra: Record<string, string | number | boolean> = {},
): Promise<RunningSite> {
  const { chmodSync } = await import('node:fs');
  const { SasldbStore } = await import('../../auth/sasldb.js');
  const { serveForTest } = await import('../../services/harness.js');
  const { openStore } = await import('../../store/index.js');
  const lmtpd = (await import('./service.js')).default;
  const pop3d = (await import('../pop3/service.js')).default;
  const smmapd = (await import('../smmap/service.js')).default;
  const site = makeSite({ allowplaintext: true, admins: 'cyrus', ...extra });
  chmodSync(site.dir, 0o755);
  const db = new SasldbStore(join(site.dir, 'sasldb2'));
  await db.setPassword('fred', 'secret', { keepCleartext: true });
  await db.setPassword('bob', 'bobpw');
  await db.setPassword('cyrus', 'adminpw');
  db.close();
  const store = openStore(site.conf('lmtp'));
  store.ensureInbox('fred');
  store.ensureInbox('bob');
  const clients = trackClients();
  const lmtpSocket = join(site.dir, 'lmtp.sock');
  const servers = [
    await serveForTest(lmtpd, { config: site.conf('lmtpunix'), path: lmtpSocket }),
    await serveForTest(lmtpd, { config: site.conf('lmtp'), argv: ['-a'] }),
    await serveForTest(lmtpd, { config: site.conf('lmtp') }),
    await serveForTest(pop3d, { config: site.conf('pop3') }),
    await serveForTest(smmapd, { config: site.conf('smmap') }),
  ];
  chmodSync(lmtpSocket, 0o777);
  return {
    site,
    store,
    lmtpSocket,
    lmtpPort: servers[1]!.port,
    lmtpAuthPort: servers[2]!.port,
    pop3Port: servers[3]!.port,
    smmapPort: servers[4]!.port,
    async stop() {
      clients.destroyAll();
      for (const s of servers) await s.stop();
      store.close();
      site.cleanup();
    },
  };
}

/** number of messages in an internal mailbox */
export function messageCount(store: import('../../store/api.js').Store, box: string): number {
  return store.status({ userid: 'cyrus', isAdmin: true, groups: [] }, box).messages;
}

/** the raw text of every message of an internal mailbox, oldest first */
export function messageTexts(store: import('../../store/api.js').Store, box: string): string[] {
  const v = store.open({ userid: 'cyrus', isAdmin: true, groups: [] }, box, { readOnly: true });
  try {
    return [...v.uids()].map((uid) => readFileSync(v.path(uid), 'latin1'));
  } finally {
    v.close();
  }
}
