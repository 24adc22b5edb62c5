/**
 * End to end with a large message (6 MiB attachment, ~8 MiB on the wire) through the suite
 * under cyr_master: delivered over LMTP by Python's smtplib, then read back byte for byte by
 * curl over IMAP and over POP3, and its attachment decoded by ImapFlow. The timings are
 * reported as test diagnostics.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { lmtpDeliver } from './lib/clients.js';

const USER = 'big';
const PASS = 'big-pw';
let suite: Suite;
const payload = randomBytes(6 * 1024 * 1024);
const b64 = payload.toString('base64').replace(/.{76}/g, '$&\r\n');
const MESSAGE = Buffer.from(
  'From: Big Sender <big@example.org>\r\nTo: big@example.org\r\nSubject: a large attachment\r\n' +
    'Message-ID: <large1@e2e.example.org>\r\nMIME-Version: 1.0\r\n' +
    'Content-Type: multipart/mixed; boundary="=_b"\r\n\r\n' +
    '--=_b\r\nContent-Type: text/plain\r\n\r\nsee the attachment\r\n' +
    '--=_b\r\nContent-Type: application/octet-stream; name="blob.bin"\r\n' +
    'Content-Transfer-Encoding: base64\r\n\r\n' +
    b64 +
    (b64.endsWith('\r\n') ? '' : '\r\n') +
    '--=_b--\r\n',
);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  suite = await startSuite({ services: ['imap', 'pop3', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
});
after(async () => {
  await suite.stop();
});

test('an 8 MiB message: LMTP in, identical out over IMAP (curl), POP3 (curl), attachment via ImapFlow', async (t) => {
  let t0 = Date.now();
  await lmtpDeliver(suite.lmtpSocket, USER, MESSAGE);
  t.diagnostic(`LMTP delivery of ${MESSAGE.length} bytes (smtplib): ${Date.now() - t0} ms`);

  const imapOut = join(suite.dir, 'imap.eml');
  const imap = await run(
    'curl',
    ['-sS', '-u', `${USER}:${PASS}`, '-o', imapOut, `imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1`],
    { timeoutMs: 60_000 },
  );
  assert.equal(imap.code, 0, imap.err);
  t.diagnostic(`curl imap:// FETCH: ${imap.ms} ms`);
  const gotImap = readFileSync(imapOut);
  // lmtpd prepends its trace fields (Return-Path, Received); the rest is the message as sent
  const trace = gotImap.subarray(0, gotImap.length - MESSAGE.length).toString();
  assert.match(trace, /^(?:(?:Return-Path|Received):.*\r\n(?:[ \t].*\r\n)*)+$/, trace);
  assert.equal(sha(gotImap.subarray(trace.length)), sha(MESSAGE));

  const popOut = join(suite.dir, 'pop.eml');
  const pop = await run(
    'curl',
    ['-sS', '-u', `${USER}:${PASS}`, '-o', popOut, `pop3://127.0.0.1:${suite.ports.pop3}/1`],
    {
      timeoutMs: 60_000,
    },
  );
  assert.equal(pop.code, 0, pop.err);
  t.diagnostic(`curl pop3:// RETR: ${pop.ms} ms`);
  // curl removes the dot-stuffing and the terminating line; the data is the message itself
  assert.equal(sha(readFileSync(popOut)), sha(gotImap));

  const c = new ImapFlow({
    host: '127.0.0.1',
    port: suite.ports.imap!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: USER, pass: PASS },
    logger: false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  await c.connect();
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      t0 = Date.now();
      const dl = await c.download('1', '2');
      const chunks: Buffer[] = [];
      for await (const ch of dl.content!) chunks.push(ch as Buffer);
      t.diagnostic(`ImapFlow download of the decoded attachment: ${Date.now() - t0} ms`);
      assert.equal(sha(Buffer.concat(chunks)), sha(payload));
      const meta = await c.fetchOne('1', { size: true, bodyStructure: true });
      assert.ok(meta);
      assert.equal(meta.size, gotImap.length);
      assert.equal(meta.bodyStructure!.childNodes![1]!.type, 'application/octet-stream');
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
});
