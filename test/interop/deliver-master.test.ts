/**
 * Delivery and retrieval under the real cyr_master (issue #7): lmtpd (unix socket), pop3d
 * and smmapd run as master's worker processes; `cyr_deliver` hands a message to lmtpd over
 * `lmtpsocket`, smmapd answers for the same user, Python's poplib fetches the message from
 * pop3d (another process: cross-process visibility of the store), and the POP lock refuses a
 * second session across connections.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { startSuite, DIST, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';

let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['lmtpunix', 'pop3', 'smmap'] });
  await suite.addUser('dora', 'dora pw');
});
after(async () => {
  await suite.stop();
});

function socketmap(port: number, requests: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    const out: string[] = [];
    s.setEncoding('utf8');
    s.on('error', reject);
    s.on('data', (d: string) => {
      buf += d;
      for (;;) {
        const m = /^(\d+):/.exec(buf);
        if (!m || buf.length < m[0].length + Number(m[1]) + 1) break;
        out.push(buf.slice(m[0].length, m[0].length + Number(m[1])));
        buf = buf.slice(m[0].length + Number(m[1]) + 1);
      }
      if (out.length === requests.length) {
        s.end();
        resolve(out);
      }
    });
    s.write(requests.map((r) => `${Buffer.byteLength(r)}:${r},`).join(''));
  });
}

const POP = String.raw`
import json, poplib, sys
P = poplib.POP3('127.0.0.1', int(sys.argv[1])); P.user('dora'); P.pass_('dora pw')
try:
    Q = poplib.POP3('127.0.0.1', int(sys.argv[1])); Q.user('dora'); Q.pass_('dora pw'); second = 'ok'
except poplib.error_proto as e:
    second = e.args[0].decode()
msgs = [b"\n".join(P.retr(i + 1)[1]).decode() for i in range(P.stat()[0])]
P.quit()
print(json.dumps({"second": second, "msgs": msgs}))
`;

test('cyr_deliver → lmtpd (unix socket) → pop3d, smmapd lookups, under cyr_master', async () => {
  const d = await run(
    process.execPath,
    [join(DIST, 'src/bin/cyr_deliver.js'), '-C', suite.conf, '-r', 'x@example.org', 'dora'],
    {
      input: 'From: x@example.org\nSubject: under master\n\nhello dora\n',
    },
  );
  assert.equal(d.code, 0, d.err + suite.log.join('\n'));
  const answers = await socketmap(suite.ports.smmap!, [
    'cyrus dora',
    'cyrus dora+folder@localhost',
    'cyrus "bad name"',
  ]);
  assert.deepEqual(answers, ['OK dora', 'OK dora+folder@localhost', 'PERM Invalid mailbox name']);
  const r = await run('python3', ['-c', POP, String(suite.ports.pop3!)]);
  assert.equal(r.code, 0, r.err);
  const o = JSON.parse(r.out) as { second: string; msgs: string[] };
  assert.match(o.second, /^-ERR \[IN-USE\]/);
  assert.equal(o.msgs.length, 1);
  assert.match(o.msgs[0]!, /^Return-Path: <x@example\.org>\nReceived: from localhost \(unix\)/);
  assert.match(o.msgs[0]!, /Subject: under master\n\nhello dora$/);
});

test('cyr_info proc shows a POP3 session with its user and maildrop', async () => {
  const sock = connect(suite.ports.pop3!, '127.0.0.1');
  let buf = '';
  sock.setEncoding('latin1');
  sock.on('data', (d: string) => (buf += d));
  try {
    sock.write('USER dora\r\nPASS dora pw\r\nNOOP\r\n');
    const end = Date.now() + 10_000;
    while (!/\+OK\r\n$/.test(buf) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.match(buf, /Mailbox locked and ready/);
    const r = await run(process.execPath, [join(DIST, 'src/bin/cyr_info.js'), '-C', suite.conf, 'proc']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /pop3.*dora.*user\.dora.*NOOP/, r.out);
  } finally {
    sock.destroy();
  }
});
