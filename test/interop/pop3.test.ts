/**
 * pop3d against real POP3 clients (issue #7): Cyrus's pop3test, Python's poplib (USER/PASS,
 * APOP, UIDL, TOP, DELE, QUIT), curl pop3:// and fetchmail retrieving and deleting.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './lib/run.js';
import {
  mail,
  messageCount,
  startDeliverySite,
  type RunningSite,
} from '../../src/protocols/lmtp/test-kit.js';

const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

async function withMessages(n: number): Promise<RunningSite> {
  const s = await startDeliverySite();
  for (let i = 1; i <= n; i++)
    await s.store.append(
      admin,
      'user.fred',
      Buffer.from(mail(`pop-${i}`, `message ${i}\r\n.dot line\r\n`, `pop ${i}`)),
    );
  return s;
}

test('pop3test logs in with USER/PASS and runs commands', async () => {
  const s = await withMessages(2);
  try {
    const r = await run(
      '/usr/lib/cyrus/bin/pop3test',
      ['-a', 'fred', '-w', 'secret', '-m', 'user', '-p', String(s.pop3Port), '127.0.0.1'],
      {
        input: 'STAT\r\nUIDL\r\nQUIT\r\n',
      },
    );
    const all = r.out + r.err;
    assert.match(all, /Mailbox locked and ready/);
    assert.match(all, /\+OK 2 \d+/);
    const uv = s.store.lookup('user.fred')!.uidValidity;
    assert.ok(all.includes(`1 ${uv}.1`) && all.includes(`2 ${uv}.2`), all);
  } finally {
    await s.stop();
  }
});

const PY_POP = String.raw`
import json, poplib, sys
port = int(sys.argv[1])
P = poplib.POP3('127.0.0.1', port)
welcome = P.getwelcome().decode()
caps = P.capa()
P.apop('fred', 'secret')
stat = P.stat()
uidl = [x.decode() for x in P.uidl()[1]]
retr = b"\r\n".join(P.retr(1)[1]).decode()
top = [x.decode() for x in P.top(2, 0)[1]]
P.dele(1)
P.quit()
Q = poplib.POP3('127.0.0.1', port)
Q.user('fred'); Q.pass_('secret')
after = Q.stat()
uidl2 = [x.decode() for x in Q.uidl()[1]]
Q.quit()
print(json.dumps({"welcome": welcome, "caps": sorted(caps.keys()), "stat": stat, "uidl": uidl, "retr": retr, "top": top, "after": after, "uidl2": uidl2}))
`;

test('Python poplib: APOP, CAPA, UIDL stable across sessions, RETR un-stuffed, TOP, DELE at QUIT', async () => {
  const s = await withMessages(3);
  try {
    const r = await run('python3', ['-c', PY_POP, String(s.pop3Port)]);
    assert.equal(r.code, 0, r.err);
    const o = JSON.parse(r.out) as {
      welcome: string;
      caps: string[];
      stat: [number, number];
      uidl: string[];
      retr: string;
      top: string[];
      after: [number, number];
      uidl2: string[];
    };
    assert.match(o.welcome, /<.+@test\.example>$/);
    for (const c of ['TOP', 'UIDL', 'USER', 'SASL', 'RESP-CODES', 'PIPELINING'])
      assert.ok(o.caps.includes(c), c);
    assert.equal(o.stat[0], 3);
    const uv = s.store.lookup('user.fred')!.uidValidity;
    assert.deepEqual(o.uidl, [`1 ${uv}.1`, `2 ${uv}.2`, `3 ${uv}.3`]);
    assert.match(o.retr, /Subject: pop 1\r\n/);
    assert.match(o.retr, /\r\nmessage 1\r\n\.dot line$/);
    assert.ok(o.top.includes('Subject: pop 2') && !o.top.includes('message 2'));
    assert.equal(o.after[0], 2);
    assert.deepEqual(o.uidl2, [`1 ${uv}.2`, `2 ${uv}.3`]);
    assert.equal(messageCount(s.store, 'user.fred'), 2);
  } finally {
    await s.stop();
  }
});

test('curl pop3:// lists and retrieves', async () => {
  const s = await withMessages(2);
  try {
    const base = `pop3://127.0.0.1:${s.pop3Port}`;
    const list = await run('curl', ['-sS', '--user', 'fred:secret', `${base}/`]);
    assert.equal(list.code, 0, list.err);
    assert.match(list.out, /^1 \d+\r\n2 \d+\r\n$/);
    const one = await run('curl', ['-sS', '--user', 'fred:secret', `${base}/2`]);
    assert.equal(one.code, 0, one.err);
    assert.match(one.out, /Subject: pop 2\r\n/);
    assert.match(one.out, /\r\n\.dot line\r\n$/);
    const bad = await run('curl', ['-sS', '--user', 'fred:wrong', `${base}/`]);
    assert.notEqual(bad.code, 0);
  } finally {
    await s.stop();
  }
});

test('fetchmail retrieves every message to an MDA and deletes them', async () => {
  const s = await withMessages(3);
  const home = mkdtempSync(join(tmpdir(), 'fetchmail-'));
  try {
    const out = join(home, 'mbox');
    const rc = join(home, 'fetchmailrc');
    writeFileSync(
      rc,
      `set no syslog\nset idfile "${join(home, 'ids')}"\n` +
        `poll 127.0.0.1 protocol POP3 port ${s.pop3Port} auth password\n` +
        `  user "fred" password "secret" is "root" here\n  sslproto ''\n  mda "cat >> ${out}"\n`,
    );
    chmodSync(rc, 0o600);
    const r = await run('fetchmail', ['-f', rc, '--nodetach', '-v'], {
      env: { ...process.env, FETCHMAILHOME: home, HOME: home },
      timeoutMs: 30_000,
    });
    assert.ok(r.code === 0, `fetchmail exited ${r.code}\n${r.out}\n${r.err}`);
    const got = readFileSync(out, 'latin1');
    for (let i = 1; i <= 3; i++) assert.ok(got.includes(`Subject: pop ${i}`), `message ${i}`);
    assert.equal(messageCount(s.store, 'user.fred'), 0, 'fetchmail deleted what it fetched');
  } finally {
    rmSync(home, { recursive: true, force: true });
    await s.stop();
  }
});
