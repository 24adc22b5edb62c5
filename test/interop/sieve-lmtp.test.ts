/**
 * Interop (issue #8): Sieve at LMTP delivery, end to end. swaks (Debian `swaks`) delivers over
 * LMTP to our lmtpd session running the Sieve planner (src/sieve/planner.ts) against a real
 * store; the message lands in the folder the script chose with the flags it set, and a
 * vacation reply reaches the sendmail stand-in exactly once per sender and period.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/api.js';
import { memoryLogger } from '../../src/log/logger.js';
import { lmtpDeps } from '../../src/protocols/lmtp/service.js';
import { LmtpSession } from '../../src/protocols/lmtp/session.js';
import { sievePlanner } from '../../src/sieve/planner.js';
import { SieveStore } from '../../src/sieve/store.js';
import { tempSite, type Site } from '../../src/sieve/test-helpers.js';

let site: Site;
let store: Store;
let server: Server;
let port = 0;
const sockets = new Set<Socket>();
const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

before(async () => {
  site = tempSite({ admins: 'cyrus', duplicatesuppression: 'no', sieve_vacation_min_response: '1d' });
  const log = memoryLogger('lmtp');
  store = openStore(site.conf, { log });
  store.createMailbox(admin, 'user.fred');
  store.createMailbox(admin, 'user.fred.Junk');
  const ctx = { service: 'lmtp', argv: [], config: site.conf, log, signal: new AbortController().signal };
  const deps = { ...lmtpDeps(ctx, store, null), planner: sievePlanner };
  server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    const s = new LmtpSession(deps, {
      stream: sock,
      preauth: true,
      secure: false,
      remote: '[127.0.0.1]',
      sessionId: 'test',
    });
    void s.run().finally(() => sock.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  store.close();
  site.cleanup();
});

function swaks(from: string, to: string, header: string, body = 'hello') {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const p = spawn(
      'swaks',
      [
        '--protocol',
        'LMTP',
        '--server',
        '127.0.0.1',
        '--port',
        String(port),
        '--from',
        from,
        '--to',
        to,
        '--header',
        header,
        '--body',
        body,
        '--helo',
        'test',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    const k = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(k);
      resolve({ code, out });
    });
  });
}

function messages(mailbox: string): { flags: string[] }[] {
  // \Seen is per user: look as the owner
  const v = store.open({ userid: 'fred', isAdmin: false, groups: [] }, mailbox, { readOnly: true });
  try {
    return v.records(v.uids()).map((r) => ({ flags: r.flags }));
  } finally {
    v.close();
  }
}

function activate(script: string): void {
  const st = new SieveStore(site.conf);
  st.put('fred', 'main', Buffer.from(script));
  st.setActive('fred', 'main');
}

test('fileinto with flags: swaks → LMTP → the folder the script chose, with its flags', async () => {
  activate(
    'require ["fileinto", "imap4flags"];\nif header :contains "subject" "SPAM" { fileinto :flags ["\\\\Seen", "$Junk"] "Junk"; }\n',
  );
  const before = messages('user.fred').length;
  let r = await swaks('alice@example.org', 'fred@example.com', 'Subject: buy SPAM now');
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, / -> \.\n<- +250 /);
  const junk = messages('user.fred.Junk');
  assert.equal(junk.length, 1);
  assert.deepEqual([...junk[0]!.flags].sort(), ['$Junk', '\\Seen']);
  assert.equal(messages('user.fred').length, before);

  r = await swaks('alice@example.org', 'fred@example.com', 'Subject: lunch?');
  assert.equal(r.code, 0, r.out);
  assert.equal(messages('user.fred').length, before + 1);
  assert.equal(messages('user.fred.Junk').length, 1);
});

test('reject: LMTP answers 5xx for the recipient', async () => {
  activate('require "reject";\nif header :contains "subject" "unwanted" { reject "not here"; }\n');
  const r = await swaks('alice@example.org', 'fred@example.com', 'Subject: unwanted offer');
  assert.notEqual(r.code, 0);
  assert.match(r.out, /<\*\* +550 5\.7\.1 not here/);
});

test('vacation: exactly one reply per sender and period through sendmail', async () => {
  activate(
    'require ["vacation", "fcc", "mailbox"];\nvacation :days 1 :subject "Out of office" :fcc "Sent" :create "I am away.";\n',
  );
  const sent0 = site.sent().length;
  for (let i = 0; i < 3; i++) {
    const r = await swaks('carol@example.org', 'fred@example.com', 'Subject: question ' + i);
    assert.equal(r.code, 0, r.out);
  }
  let sent = site.sent().slice(sent0);
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]!.args, ['-f', '<>', '--', 'carol@example.org']);
  assert.match(sent[0]!.input, /\r\nSubject: Out of office\r\n/);
  // the reply was filed in Sent (created by :create)
  assert.equal(messages('user.fred.Sent').length, 1);
  await swaks('dave@example.org', 'fred@example.com', 'Subject: hi');
  sent = site.sent().slice(sent0);
  assert.equal(sent.length, 2);
  assert.deepEqual(sent[1]!.args, ['-f', '<>', '--', 'dave@example.org']);
});
