/**
 * imapd against real clients (issue #5): Python's imaplib, curl's imap://, Cyrus's imtest.
 * Each test starts a real imapd (real store, sasldb, authenticator) on a loopback port.
 * Needs python3, curl, cyrus-clients (.ci/packages.txt).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestImapd, type TestImapd } from '../../src/protocols/imap/test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd({ fred: 'secret', alice: 'alicepw', bob: 'b0b' });
});
after(async () => {
  await srv.stop();
});

function run(
  cmd: string,
  args: string[],
  input = '',
  timeoutMs = 20000,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} timed out; out=${out} err=${err}`));
    }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
    p.stdin.end(input);
  });
}

const PY = String.raw`
import imaplib, json, sys
port = int(sys.argv[1])
out = {}
M = imaplib.IMAP4('127.0.0.1', port)
out['caps'] = list(M.capabilities)
out['login'] = M.login('fred', 'secret')[0]
out['create'] = M.create('Projects')[0]
typ, data = M.list()
out['list'] = [d.decode() for d in data]
msg = b'From: Alice <alice@example.org>\r\nTo: fred@example.org\r\nSubject: imaplib test\r\nMessage-ID: <py1@example.org>\r\n\r\nHello from Python\r\n'
out['append'] = M.append('Projects', '(\\Flagged)', imaplib.Time2Internaldate(1700000000), msg)[0]
M.append('Projects', None, None, msg.replace(b'imaplib test', b'second one'))
typ, data = M.select('Projects')
out['select'] = [typ, data[0].decode()]
typ, data = M.fetch('1', '(RFC822)')
out['fetch_body'] = data[0][1].decode()
typ, data = M.fetch('1:2', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['fetch_hdr'] = [x[1].decode() for x in data if isinstance(x, tuple)]
typ, data = M.search(None, 'SUBJECT', '"second"')
out['search'] = data[0].decode()
typ, data = M.uid('SEARCH', 'ALL')
out['uid_search'] = data[0].decode()
typ, data = M.store('2', '+FLAGS', '(\\Deleted)')
out['store'] = [d.decode() for d in data]
typ, data = M.copy('1', 'INBOX')
out['copy'] = typ
typ, data = M.expunge()
out['expunge'] = [d.decode() for d in data if d]
typ, data = M.status('INBOX', '(MESSAGES UNSEEN)')
out['status'] = data[0].decode()
M.close()
out['logout'] = M.logout()[0]
print(json.dumps(out))
`;

test('Python imaplib: login, list, create, append, select, fetch, search, store, copy, expunge, logout', async () => {
  const r = await run('python3', ['-c', PY, String(srv.port)]);
  assert.equal(r.code, 0, r.err);
  const o = JSON.parse(r.out) as Record<string, unknown>;
  assert.ok((o.caps as string[]).includes('IMAP4REV1'));
  assert.equal(o.login, 'OK');
  assert.equal(o.create, 'OK');
  assert.ok(
    (o.list as string[]).some((l) => l.endsWith(' Projects')),
    String(o.list),
  );
  assert.equal(o.append, 'OK');
  assert.deepEqual(o.select, ['OK', '2']);
  assert.match(
    o.fetch_body as string,
    /Subject: imaplib test\r\nMessage-ID: <py1@example.org>\r\n\r\nHello from Python\r\n$/,
  );
  assert.deepEqual(o.fetch_hdr, ['Subject: imaplib test\r\n\r\n', 'Subject: second one\r\n\r\n']);
  assert.equal(o.search, '2');
  assert.equal(o.uid_search, '1 2');
  assert.deepEqual(o.store, ['2 (FLAGS (\\Deleted))']);
  assert.equal(o.copy, 'OK');
  assert.deepEqual(o.expunge, ['2']);
  assert.match(o.status as string, /^"?INBOX"? \(MESSAGES 1 UNSEEN 0\)$/);
  assert.equal(o.logout, 'BYE');
});

test('curl imap://: list mailboxes and fetch a message by UID', async () => {
  // curl's upload is an APPEND
  const msg = 'From: a@example.org\r\nSubject: curl test\r\n\r\ncurl body\r\n';
  const file = join(srv.dir, 'curl-msg.eml');
  writeFileSync(file, msg);
  const up = await run('curl', [
    '-s',
    '-S',
    '--user',
    'alice:alicepw',
    '-T',
    file,
    `imap://127.0.0.1:${srv.port}/INBOX`,
  ]);
  assert.equal(up.code, 0, up.err);
  const ls = await run('curl', ['-s', '-S', '--user', 'alice:alicepw', `imap://127.0.0.1:${srv.port}/`]);
  assert.equal(ls.code, 0, ls.err);
  assert.match(ls.out, /\* LIST \(.*\) "\/" INBOX/);
  const get = await run('curl', [
    '-s',
    '-S',
    '--user',
    'alice:alicepw',
    `imap://127.0.0.1:${srv.port}/INBOX;UID=1`,
  ]);
  assert.equal(get.code, 0, get.err);
  assert.equal(get.out.replace(/\r\n/g, '\n'), msg.replace(/\r\n/g, '\n'));
  const bad = await run('curl', ['-s', '--user', 'alice:wrong', `imap://127.0.0.1:${srv.port}/`]);
  assert.notEqual(bad.code, 0);
});

test('imtest (cyrus-clients): SASL PLAIN and LOGIN with -a/-w', async () => {
  for (const mech of ['PLAIN', 'LOGIN']) {
    const r = await run(
      '/usr/lib/cyrus/bin/imtest',
      ['-p', String(srv.port), '-m', mech, '-a', 'bob', '-w', 'b0b', '127.0.0.1'],
      'x1 LIST "" "*"\r\nx2 LOGOUT\r\n',
    );
    const all = r.out + r.err;
    assert.match(all, /Authenticated\./, `${mech}: ${all}`);
    assert.match(all, /\* LIST \(.*\) "\/" INBOX/, `${mech}: ${all}`);
    assert.match(all, /x2 OK/, `${mech}: ${all}`);
  }
  const bad = await run(
    '/usr/lib/cyrus/bin/imtest',
    ['-p', String(srv.port), '-m', 'PLAIN', '-a', 'bob', '-w', 'nope', '127.0.0.1'],
    'x LOGOUT\r\n',
  );
  assert.doesNotMatch(bad.out + bad.err, /Authenticated\./);
});
