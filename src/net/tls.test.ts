import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { constants as cryptoConstants } from 'node:crypto';
import tls from 'node:tls';
import { makeTestCerts, type TestCerts } from './test-certs.js';
import {
  channelBindings,
  describeTls,
  endPointHash,
  externalIdentity,
  startTls,
  tlsAvailable,
  tlsServerContext,
  versionRange,
} from './tls.js';
import {
  currentTicketKey,
  fetchSession,
  openSessionDb,
  pruneSessions,
  storeSession,
} from './tls-sessions.js';
import { LineReader } from './lines.js';
import { testConf } from '../auth/test-conf.js';
import { createAuthenticator } from '../auth/authenticator.js';
import { memoryStore } from '../auth/test-store.js';
import { memoryLogger } from '../log/logger.js';
import type { ImapdConf } from '../config/api.js';

let dir: string;
let certs: TestCerts;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tls-'));
  certs = makeTestCerts(dir);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const confWith = (extra: Record<string, string> = {}): ImapdConf =>
  testConf({ tls_server_cert: certs.serverCert, tls_server_key: certs.serverKey, ...extra }, 'imap', dir);

/** A loopback server that upgrades each connection at once; collects server-side sockets. */
interface Secured {
  t: tls.TLSSocket;
  reused: boolean;
  ext: string | undefined;
  desc: string;
  bindings: { type: string; data: Buffer }[];
}

async function tlsServer(
  conf: ImapdConf,
): Promise<{ port: number; secured: Secured[]; errors: Error[]; close: () => Promise<void> }> {
  const secured: Secured[] = [];
  const errors: Error[] = [];
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    startTls(s, conf, { timeoutMs: 5000 }).then(
      (t) => {
        // what the session knows must be read while the connection is up
        secured.push({
          t,
          reused: t.isSessionReused(),
          ext: externalIdentity(t),
          desc: describeTls(t),
          bindings: channelBindings(t),
        });
        t.on('error', () => {});
        t.write(`hello ${t.getProtocol()}\n`);
        t.on('data', () => t.end());
      },
      (e: Error) => errors.push(e),
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  return {
    port: (srv.address() as net.AddressInfo).port,
    secured,
    errors,
    close: () =>
      new Promise<void>((r) => {
        for (const s of socks) s.destroy();
        srv.close(() => r());
      }),
  };
}

function connect(
  port: number,
  o: tls.ConnectionOptions = {},
  onSession?: (s: Buffer) => void,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const c = tls.connect({
      port,
      host: '127.0.0.1',
      ca: readFileSync(certs.caCert),
      servername: 'localhost',
      ...o,
    });
    if (onSession) c.on('session', onSession);
    c.once('secureConnect', () => resolve(c));
    c.once('error', reject);
  });
}

async function greet(c: tls.TLSSocket): Promise<string> {
  const line = await new Promise<string>((r) => c.once('data', (d: Buffer) => r(d.toString().trim())));
  // wait for the session ticket before closing, so resumption has something to use
  c.end('bye\n');
  await new Promise((r) => c.once('close', r));
  return line;
}

test('TLS is available only with both cert and key', () => {
  assert.equal(tlsAvailable(testConf()), false);
  assert.equal(tlsAvailable(testConf({ tls_server_cert: 'a' })), false);
  assert.equal(tlsAvailable(testConf({ tls_server_cert: 'a', tls_server_key: 'disabled' })), false);
  assert.equal(tlsServerContext(testConf()), null);
  assert.equal(tlsAvailable(confWith()), true);
  assert.deepEqual(versionRange(confWith()), { minVersion: 'TLSv1', maxVersion: 'TLSv1.3' });
  assert.deepEqual(versionRange(confWith({ tls_versions: 'tls1_3 tls1_2' })), {
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
  });
  assert.throws(() => versionRange(confWith({ tls_versions: 'ssl3' })));
});

test('handshake, and tls_versions honoured', async () => {
  const s13 = await tlsServer(confWith({ tls_versions: 'tls1_3' }));
  try {
    assert.equal(await greet(await connect(s13.port)), 'hello TLSv1.3');
    await assert.rejects(connect(s13.port, { maxVersion: 'TLSv1.2' }));
  } finally {
    await s13.close();
  }
  const s12 = await tlsServer(confWith({ tls_versions: 'tls1_2' }));
  try {
    assert.equal(await greet(await connect(s12.port)), 'hello TLSv1.2');
    await assert.rejects(connect(s12.port, { minVersion: 'TLSv1.3' }));
  } finally {
    await s12.close();
  }
});

test('sessions resume across processes through the shared ticket key', async () => {
  for (const v of ['tls1_2', 'tls1_3']) {
    // two conf objects = two independent context caches, like two worker processes
    const a = await tlsServer(confWith({ tls_versions: v }));
    const b = await tlsServer(confWith({ tls_versions: v }));
    try {
      let session: Buffer | undefined;
      await greet(await connect(a.port, {}, (s) => (session = s)));
      assert.ok(session, 'got a session ticket');
      const c2 = await connect(b.port, { session });
      assert.equal(c2.isSessionReused(), true, `${v} resumed on the other server`);
      await greet(c2);
      assert.equal(b.secured[0].reused, true);
    } finally {
      await a.close();
      await b.close();
    }
  }
  // a TLS 1.2 client without tickets resumes by session id through tls_sessions.db
  {
    const a = await tlsServer(confWith({ tls_versions: 'tls1_2' }));
    const b = await tlsServer(confWith({ tls_versions: 'tls1_2' }));
    try {
      let session: Buffer | undefined;
      const noTicket = { secureOptions: cryptoConstants.SSL_OP_NO_TICKET };
      await greet(await connect(a.port, noTicket, (s) => (session = s)));
      assert.ok(session);
      const c2 = await connect(b.port, { ...noTicket, session });
      assert.equal(c2.isSessionReused(), true, 'session id resumed on the other server');
      await greet(c2);
    } finally {
      await a.close();
      await b.close();
    }
  }
  // tls_session_timeout 0: no resumption
  const n = await tlsServer(confWith({ tls_session_timeout: '0', tls_versions: 'tls1_2' }));
  try {
    let session: Buffer | undefined;
    await greet(await connect(n.port, {}, (s) => (session = s)));
    const c2 = await connect(n.port, { session });
    assert.equal(c2.isSessionReused(), false);
    await greet(c2);
  } finally {
    await n.close();
  }
});

test('client certificate gives the EXTERNAL identity; require refuses clients without one', async () => {
  const conf = confWith({ tls_client_ca_file: certs.caCert });
  const s = await tlsServer(conf);
  try {
    const c = await connect(s.port, {
      cert: readFileSync(certs.clientCert),
      key: readFileSync(certs.clientKey),
    });
    await greet(c);
    const t = s.secured[0];
    assert.equal(t.ext, certs.clientName);
    assert.match(t.desc, /TLSv1\.3 with cipher \S+ \(\d+\/\d+ bits new\) authenticated as certuser/);
    // EXTERNAL through the authenticator
    const auth = createAuthenticator(conf, memoryLogger(), { store: memoryStore({}) });
    assert.ok(auth.mechanisms({ secure: true, hasExternal: true }).includes('EXTERNAL'));
    const ex = auth.start('EXTERNAL', { service: 'imap', secure: true, serverName: 'x', externalId: t.ext });
    assert.deepEqual(await ex.step(Buffer.alloc(0)), { done: { authcid: 'certuser', authzid: '' } });
    // no client certificate: optional mode lets the connection in, without identity
    const c2 = await connect(s.port);
    await greet(c2);
    assert.equal(s.secured[1].ext, undefined);
  } finally {
    await s.close();
  }
  const r = await tlsServer(confWith({ tls_client_ca_file: certs.caCert, tls_client_certs: 'require' }));
  try {
    const c = await connect(r.port).catch((e: Error) => e);
    if (!(c instanceof Error)) {
      // TLS 1.3: the client learns of the refusal after its handshake "completed"
      await new Promise((res) => {
        c.once('error', res);
        c.once('close', res);
      });
    }
    await new Promise((res) => setTimeout(res, 50));
    assert.equal(r.secured.length, 0);
    assert.equal(r.errors.length, 1);
  } finally {
    await r.close();
  }
});

test('channel bindings agree on both sides', async () => {
  for (const v of ['tls1_2', 'tls1_3']) {
    const s = await tlsServer(confWith({ tls_versions: v }));
    try {
      const c = await connect(s.port);
      const line = new Promise<void>((r) => c.once('data', () => r()));
      await line;
      const server = s.secured[0].bindings;
      if (v === 'tls1_3') {
        assert.equal(server[0].type, 'tls-exporter');
        assert.deepEqual(
          server[0].data,
          c.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)),
        );
      } else {
        assert.equal(server[0].type, 'tls-unique');
        assert.deepEqual(server[0].data, c.getFinished());
      }
      const ep = server.find((b) => b.type === 'tls-server-end-point');
      assert.ok(ep);
      const peer = c.getPeerCertificate(false).raw;
      const { createHash } = await import('node:crypto');
      assert.deepEqual(ep.data, createHash(endPointHash(peer)).update(peer).digest());
      c.end('x\n');
      await new Promise((r) => c.once('close', r));
    } finally {
      await s.close();
    }
  }
});

test('STARTTLS with the line reader: pipelined plaintext is discarded', async () => {
  const conf = confWith();
  const got: string[] = [];
  const done = new Promise<void>((resolve) => {
    const srv = net.createServer(async (sock) => {
      const r = new LineReader(sock, { maxLine: 100 });
      const first = await r.readLine();
      got.push(first && 'line' in first ? first.line.toString() : '?');
      sock.write('+OK begin TLS\r\n');
      const raw = r.detach();
      const t = await startTls(raw, conf);
      r.attach(t);
      const next = await r.readLine();
      got.push(next && 'line' in next ? next.line.toString() : String(next));
      t.end('+OK bye\r\n');
      srv.close();
      resolve();
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      const plain = net.connect(port, '127.0.0.1', () => {
        plain.write('STLS\r\nUSER injected\r\n');
        plain.once('data', () => {
          const c = tls.connect(
            { socket: plain, ca: readFileSync(certs.caCert), servername: 'localhost' },
            () => c.write('USER real\r\n'),
          );
          c.on('data', () => {});
          c.on('error', () => {});
        });
      });
    });
  });
  await done;
  assert.deepEqual(got, ['STLS', 'USER real']);
});

test('ticket keys rotate after the timeout and are pruned', () => {
  const conf = testConf({}, 'imap', join(dir, 'rotation')); // a database of its own
  const db = openSessionDb(conf);
  try {
    const t0 = 1_000_000_000_000;
    const k1 = currentTicketKey(db, 3600, t0);
    assert.equal(k1.key.length, 48);
    assert.deepEqual(currentTicketKey(db, 3600, t0 + 1000).key, k1.key);
    const k2 = currentTicketKey(db, 3600, t0 + 3600_000);
    assert.notDeepEqual(k2.key, k1.key);
    assert.equal(pruneSessions(db, 3600, t0 + 3600_000 + 10), 0);
    assert.equal(pruneSessions(db, 3600, t0 + 2 * 3600_000), 1);
    assert.equal(pruneSessions(db, 3600, t0 + 2 * 3600_000), 0);
    storeSession(db, Buffer.from('id-old'), Buffer.from('sess1'), t0);
    storeSession(db, Buffer.from('id-new'), Buffer.from('sess2'), t0 + 3000_000);
    assert.deepEqual(fetchSession(db, Buffer.from('id-new'), 3600, t0 + 3100_000), Buffer.from('sess2'));
    assert.equal(fetchSession(db, Buffer.from('id-old'), 3600, t0 + 3700_000), null);
    assert.equal(pruneSessions(db, 3600, t0 + 3700_000), 1);
    assert.deepEqual(fetchSession(db, Buffer.from('id-new'), 3600, t0 + 3700_000), Buffer.from('sess2'));
  } finally {
    db.close();
  }
});
