/**
 * TLS for pop3d and lmtpd (RFC 2595 STLS, RFC 3207 STARTTLS, implicit TLS with -s): USER is
 * offered only once the connection is encrypted (allowplaintext off), pipelined plaintext
 * after STLS is discarded, LHLO after STARTTLS no longer offers STARTTLS.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect, type Socket } from 'node:net';
import { makeTestCerts } from '../../net/test-certs.js';
import { SasldbStore } from '../../auth/sasldb.js';
import { serveForTest } from '../../services/harness.js';
import { openStore } from '../../store/index.js';
import pop3d from './service.js';
import lmtpd from '../lmtp/service.js';
import { makeSite, messageTexts } from '../lmtp/test-kit.js';

/** read lines from a socket until `pred` says the reply is complete */
function reader(sock: Socket | TLSSocket): (pred: (buf: string) => number) => Promise<string> {
  let buf = '';
  let wake: (() => void) | null = null;
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => {
    buf += d;
    wake?.();
  });
  return async (pred) => {
    const end = Date.now() + 5000;
    for (;;) {
      const n = pred(buf);
      if (n >= 0) {
        const out = buf.slice(0, n);
        buf = buf.slice(n);
        return out;
      }
      if (Date.now() > end) throw new Error(`timeout; have ${JSON.stringify(buf)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 200);
      });
    }
  };
}
const line = (b: string): number => (b.indexOf('\n') < 0 ? -1 : b.indexOf('\n') + 1);
const multi = (b: string): number => (b.indexOf('\r\n.\r\n') < 0 ? -1 : b.indexOf('\r\n.\r\n') + 5);
const smtpReply = (b: string): number => {
  const m = /^(?:\d{3}-[^\n]*\n)*\d{3} [^\n]*\n/.exec(b);
  return m ? m[0].length : -1;
};

async function setup() {
  const site = makeSite({ allowplaintext: false });
  mkdirSync(join(site.dir, 'certs'));
  const certs = makeTestCerts(join(site.dir, 'certs'));
  writeFileSync(
    site.confPath,
    readFileSync(site.confPath, 'utf8') +
      `tls_server_cert: ${certs.serverCert}\ntls_server_key: ${certs.serverKey}\n`,
  );
  const db = new SasldbStore(join(site.dir, 'sasldb2'));
  await db.setPassword('fred', 'secret');
  db.close();
  const store = openStore(site.conf('pop3'));
  store.ensureInbox('fred');
  return { site, store, ca: readFileSync(certs.caCert) };
}

test('pop3d: STLS upgrades, drops pipelined plaintext, then USER/PASS; pop3s (-s) is TLS from the start', async () => {
  const { site, store, ca } = await setup();
  const plain = await serveForTest(pop3d, { config: site.conf('pop3') });
  const implicit = await serveForTest(pop3d, { config: site.conf('pop3s'), argv: ['-s'] });
  const socks: Socket[] = [];
  try {
    const sock = connect(plain.port, '127.0.0.1');
    socks.push(sock);
    const read = reader(sock);
    await read(line);
    sock.write('CAPA\r\n');
    const before = await read(multi);
    assert.ok(before.includes('\r\nSTLS\r\n') && !before.includes('\r\nUSER\r\n'), before);
    sock.write('STLS\r\nNOOP\r\n');
    assert.match(await read(line), /^\+OK Begin TLS/);
    sock.removeAllListeners('data');
    const t = tlsConnect({ socket: sock, ca, servername: 'localhost' });
    socks.push(t);
    await new Promise<void>((r, j) => {
      t.once('secureConnect', r);
      t.once('error', j);
    });
    const tread = reader(t);
    t.write('CAPA\r\n');
    const after = await tread(multi);
    assert.ok(after.startsWith('+OK'), `the pipelined NOOP was discarded: ${after}`);
    assert.ok(after.includes('\r\nUSER\r\n') && !after.includes('\r\nSTLS\r\n'), after);
    t.write('USER fred\r\nPASS secret\r\nQUIT\r\n');
    await tread(line);
    assert.match(await tread(line), /^\+OK Mailbox locked/);

    const s2 = tlsConnect({ port: implicit.port, host: '127.0.0.1', ca, servername: 'localhost' });
    socks.push(s2);
    const r2 = reader(s2);
    assert.match(await r2(line), /^\+OK /);
    s2.write('CAPA\r\n');
    const caps = await r2(multi);
    assert.ok(caps.includes('\r\nUSER\r\n') && !caps.includes('STLS'), caps);
  } finally {
    for (const s of socks) s.destroy();
    await plain.stop();
    await implicit.stop();
    store.close();
    site.cleanup();
  }
});

test('lmtpd: STARTTLS advertised, upgrade, LHLO again without STARTTLS', async () => {
  const { site, store, ca } = await setup();
  const srv = await serveForTest(lmtpd, { config: site.conf('lmtp'), argv: ['-a'] });
  const socks: Socket[] = [];
  try {
    const sock = connect(srv.port, '127.0.0.1');
    socks.push(sock);
    const read = reader(sock);
    await read(smtpReply);
    sock.write('LHLO x\r\n');
    assert.match(await read(smtpReply), /250-STARTTLS\r\n/);
    sock.write('STARTTLS\r\n');
    assert.match(await read(smtpReply), /^220 2\.0\.0/);
    sock.removeAllListeners('data');
    const t = tlsConnect({ socket: sock, ca, servername: 'localhost' });
    socks.push(t);
    await new Promise<void>((r, j) => {
      t.once('secureConnect', r);
      t.once('error', j);
    });
    const tread = reader(t);
    t.write('MAIL FROM:<a@b>\r\nLHLO x\r\n');
    assert.match(await tread(smtpReply), /^503 5\.5\.1 Need LHLO/);
    const lhlo = await tread(smtpReply);
    assert.ok(!lhlo.includes('STARTTLS'), lhlo);
    t.write('MAIL FROM:<a@b>\r\nRCPT TO:<fred>\r\nDATA\r\nSubject: tls\r\n\r\nover tls\r\n.\r\n');
    for (const re of [/^250/, /^250/, /^354/, /^250 2\.1\.5/]) assert.match(await tread(smtpReply), re);
    const text = messageTexts(store, 'user.fred')[0]!;
    assert.match(text, /with LMTPS;/);
  } finally {
    for (const s of socks) s.destroy();
    await srv.stop();
    store.close();
    site.cleanup();
  }
});
