import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { makeTestCerts, type TestCerts } from '../../net/test-certs.js';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

let certDir: string;
let certs: TestCerts;
let plain: TestImapd;
let implicit: TestImapd;

before(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'imapd-certs-'));
  certs = makeTestCerts(certDir);
  const tlsConf = {
    tls_server_cert: certs.serverCert,
    tls_server_key: certs.serverKey,
    allowplaintext: 'no',
  };
  plain = await startTestImapd({ fred: 'secret' }, tlsConf);
  implicit = await startTestImapd({ fred: 'secret' }, tlsConf, ['-s']);
});
after(async () => {
  await plain.stop();
  await implicit.stop();
  rmSync(certDir, { recursive: true, force: true });
});

function upgrade(sock: import('node:net').Socket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tlsConnect({ socket: sock, ca: [readFileSync(certs.caCert)], servername: 'localhost' }, () =>
      resolve(t),
    );
    t.once('error', reject);
  });
}

test('without TLS: STARTTLS and LOGINDISABLED offered, no plaintext mechanisms, LOGIN refused', async () => {
  const c = await RawClient.connect(plain.port);
  const g = await c.line();
  assert.match(g, / STARTTLS /);
  assert.match(g, / LOGINDISABLED /);
  assert.doesNotMatch(g, /AUTH=PLAIN/);
  assert.match((await c.cmd('LOGIN fred secret')).tagged, /^NO \[PRIVACYREQUIRED\]/);
  c.close();
});

test('STARTTLS: handshake, new capabilities, login; input sent with STARTTLS is discarded', async () => {
  const c = await RawClient.connect(plain.port);
  await c.line();
  // a command pipelined behind STARTTLS must not run after the handshake (no injection)
  c.write('s1 STARTTLS\r\ns2 NOOP\r\n');
  assert.equal(await c.line(), 's1 OK Begin TLS negotiation now');
  const t = await upgrade(c.release());
  const s = RawClient.fromSocket(t as unknown as import('node:net').Socket);
  const cap = await s.cmd('CAPABILITY');
  assert.doesNotMatch(cap.lines[0]!, /STARTTLS|LOGINDISABLED/);
  assert.match(cap.lines[0]!, /AUTH=PLAIN/);
  assert.equal((await s.cmd('STARTTLS')).tagged, 'BAD Already successfully executed STARTTLS');
  assert.match((await s.cmd('LOGIN fred secret')).tagged, /^OK /);
  assert.equal((await s.cmd('NOOP')).tagged, 'OK Completed');
  s.close();
});

test('imapd -s: implicit TLS from the first byte', async () => {
  const t = await new Promise<TLSSocket>((resolve, reject) => {
    const x = tlsConnect(
      { host: '127.0.0.1', port: implicit.port, ca: [readFileSync(certs.caCert)], servername: 'localhost' },
      () => resolve(x),
    );
    x.once('error', reject);
  });
  const s = RawClient.fromSocket(t as unknown as import('node:net').Socket);
  const g = await s.line();
  assert.match(g, /^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN/);
  assert.doesNotMatch(g, /STARTTLS|LOGINDISABLED/);
  assert.match((await s.cmd('LOGIN fred secret')).tagged, /^OK /);
  s.close();
});
