/**
 * End to end with curl against the suite under cyr_master: SASL mechanisms chosen with
 * `--login-options AUTH=…` over IMAP and POP3 (PLAIN, LOGIN, CRAM-MD5 against a user made by
 * `cyr_saslpasswd -k`, sasl_mech_list naming CRAM-MD5), wrong passwords refused, and IMAP URL parts
 * (RFC 5092 `;SECTION=` and `;PARTIAL=`) that map to FETCH BODY[section]<partial>.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { lmtpDeliver } from './lib/clients.js';

const USER = 'mech';
const PASS = 'mech-pw-7';
let suite: Suite;
const MSG =
  'From: a@example.org\r\nTo: mech@example.org\r\nSubject: parts\r\nMIME-Version: 1.0\r\n' +
  'Content-Type: multipart/mixed; boundary="xx"\r\n\r\n' +
  '--xx\r\nContent-Type: text/plain\r\n\r\nfirst part text\r\n' +
  '--xx\r\nContent-Type: text/plain; name="b.txt"\r\n\r\n0123456789abcdefghij\r\n--xx--\r\n';

before(async () => {
  // CRAM-MD5 is offered only when sasl_mech_list names it (it needs cleartext passwords)
  suite = await startSuite({
    services: ['imap', 'pop3', 'lmtpunix'],
    imapdConf: { sasl_mech_list: 'SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN', failedloginpause: '0' },
  });
  await suite.addUser(USER, PASS, { keepCleartext: true });
  await lmtpDeliver(suite.lmtpSocket, USER, MSG);
});
after(async () => {
  await suite.stop();
});

const curl = (args: string[]): ReturnType<typeof run> =>
  run('curl', ['-sS', '-v', '--max-time', '20', ...args], { timeoutMs: 30_000 });

for (const mech of ['PLAIN', 'LOGIN', 'CRAM-MD5']) {
  test(`curl imap:// AUTH=${mech} authenticates and fetches`, async () => {
    const r = await curl([
      '-u',
      `${USER}:${PASS}`,
      '--login-options',
      `AUTH=${mech}`,
      `imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1;SECTION=HEADER.FIELDS%20(SUBJECT)`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`AUTHENTICATE ${mech}`), 'curl used the mechanism');
    assert.match(r.out, /^Subject: parts\r?$/m);
  });

  test(`curl pop3:// AUTH=${mech} authenticates and lists`, async () => {
    const r = await curl([
      '-u',
      `${USER}:${PASS}`,
      '--login-options',
      `AUTH=${mech}`,
      `pop3://127.0.0.1:${suite.ports.pop3}/`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`AUTH ${mech}`), 'curl used the mechanism');
    assert.match(r.out, /^1 \d+\r?$/m);
  });
}

test('curl imap:// with a wrong password fails with a login error (curl exit 67)', async () => {
  const r = await curl(['-u', `${USER}:wrong`, `imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1`]);
  assert.equal(r.code, 67, r.err);
  assert.match(r.err, /NO/);
});

test('curl pop3:// with a wrong password fails with a login error (curl exit 67)', async () => {
  const r = await curl(['-u', `${USER}:wrong`, `pop3://127.0.0.1:${suite.ports.pop3}/1`]);
  assert.equal(r.code, 67, r.err);
  assert.match(r.err, /-ERR/);
});

test('curl imap:// ;SECTION= and ;PARTIAL= fetch one MIME part and a byte range of it', async () => {
  const base = `imap://127.0.0.1:${suite.ports.imap}/INBOX;UID=1`;
  const part = await curl(['-u', `${USER}:${PASS}`, `${base}/;SECTION=2`]);
  assert.equal(part.code, 0, part.err);
  assert.equal(part.out, '0123456789abcdefghij');
  const partial = await curl(['-u', `${USER}:${PASS}`, `${base}/;SECTION=2/;PARTIAL=5.6`]);
  assert.equal(partial.code, 0, partial.err);
  assert.equal(partial.out, '56789a');
  const text = await curl(['-u', `${USER}:${PASS}`, `${base}/;SECTION=1.MIME`]);
  assert.equal(text.code, 0, text.err);
  assert.equal(text.out, 'Content-Type: text/plain\r\n\r\n');
});
