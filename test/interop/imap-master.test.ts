/**
 * imapd run the way production runs it: a real cyr_master reading cyrus.conf
 * (`imap cmd="imapd"`), its worker loading our built-in service, Python imaplib as the client.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SasldbStore } from '../../src/auth/sasldb.js';
import { startMaster } from '../../src/master/testing.js';
import { RawClient } from '../../src/protocols/imap/test-helpers.js';

const PY = String.raw`
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
print(M.welcome.decode())
M.login('mary', 'marypw')
M.append('INBOX', None, None, b'From: a@example.org\r\nSubject: via master\r\n\r\nhello\r\n')
M.select('INBOX')
typ, data = M.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
print(data[0][1].decode().strip())
M.logout()
`;

test('cyr_master runs imapd from cyrus.conf; imaplib logs in, appends and fetches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapd-master-'));
  await new SasldbStore(join(dir, 'sasldb2')).setPassword('mary', 'marypw', { create: true });
  const m = await startMaster({
    dir,
    cyrusConf: 'SERVICES {\n  imap cmd="imapd" listen="127.0.0.1:0" prefork=1\n}\n',
    imapd: [
      'partition-default: $DIR/spool',
      'sasl_sasldb_path: $DIR/sasldb2',
      'sasl_pwcheck_method: auxprop',
      'allowplaintext: yes',
      'autocreate_quota: 0',
      'servername: master.test',
    ].join('\n'),
  });
  try {
    const port = m.port('imap');
    const out = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
      const p = spawn('python3', ['-c', PY, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.stderr.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('close', (code) => resolve({ code, text }));
    });
    assert.equal(out.code, 0, out.text + '\n' + m.lines.join('\n'));
    assert.match(out.text, /^\* OK \[CAPABILITY IMAP4rev1 .*\] master\.test Cyrus-TS IMAP server ready/);
    assert.match(out.text, /Subject: via master/);
    // while a session is open, its proc file says who and where (cyr_info proc)
    const c = await RawClient.connect(port);
    await c.login('mary', 'marypw');
    await c.cmd('SELECT INBOX');
    const procDir = join(dir, 'conf', 'proc');
    const lines = readdirSync(procDir).map((f) => readFileSync(join(procDir, f), 'utf8'));
    assert.ok(
      lines.some((l) => /^imap\t[^\t]*\tmary\t[^\t]*mary[^\t]*\tSELECT\n$/.test(l)),
      JSON.stringify(lines),
    );
    await c.cmd('LOGOUT');
    c.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('maxlogins_per_user under cyr_master: a second session of the same user is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapd-master-'));
  const db = new SasldbStore(join(dir, 'sasldb2'));
  await db.setPassword('mary', 'marypw', { create: true });
  await db.setPassword('john', 'johnpw', { create: true });
  const m = await startMaster({
    dir,
    cyrusConf: 'SERVICES {\n  imap cmd="imapd" listen="127.0.0.1:0" prefork=1\n}\n',
    imapd: [
      'partition-default: $DIR/spool',
      'sasl_sasldb_path: $DIR/sasldb2',
      'sasl_pwcheck_method: auxprop',
      'allowplaintext: yes',
      'autocreate_quota: 0',
      'maxlogins_per_user: 1',
    ].join('\n'),
  });
  try {
    const port = m.port('imap');
    const a = await RawClient.connect(port);
    await a.login('mary', 'marypw');
    const b = await RawClient.connect(port);
    await b.line();
    assert.equal((await b.cmd('LOGIN mary marypw')).tagged, 'NO [LIMIT] Too many open connections');
    assert.match((await b.cmd('LOGIN john johnpw')).tagged, /^OK /);
    await a.cmd('LOGOUT');
    a.close();
    b.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});
