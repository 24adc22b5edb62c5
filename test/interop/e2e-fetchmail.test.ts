/**
 * End to end with fetchmail (package fetchmail) against the suite under cyr_master: retrieval
 * over IMAP (STARTTLS, certificate checked against the suite's self-signed one) and over POP3
 * (plain, then STLS), each message handed to an MDA that writes one file per message. Without
 * --keep fetchmail deletes what it fetched; with --keep the server keeps it (checked with
 * Python's imaplib and poplib).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapMailbox, lmtpDeliver, message, popList } from './lib/clients.js';

let suite: Suite;
let n = 0;

before(async () => {
  suite = await startSuite({ services: ['imap', 'pop3', 'lmtpunix'] });
});
after(async () => {
  await suite.stop();
});

/** a fresh user with `count` delivered messages */
async function userWith(count: number, keepCleartext = false): Promise<{ user: string; pass: string }> {
  const user = `fm${++n}`;
  const pass = `pw-${user}-x`;
  await suite.addUser(user, pass, { keepCleartext });
  for (let i = 1; i <= count; i++)
    await lmtpDeliver(suite.lmtpSocket, user, message(`fetch me ${i}`, `body ${i} of ${user}`));
  return { user, pass };
}

/** run fetchmail once with a poll line; returns the fetched messages (one MDA file each) */
async function fetchmail(
  poll: string,
  extra: string[] = [],
  home = join(suite.dir, `fetchmail-${++n}`),
): Promise<{ code: number | null; msgs: string[]; log: string }> {
  const out = join(home, `out-${++n}`);
  mkdirSync(out, { recursive: true });
  const rcfile = join(home, 'fetchmailrc');
  // one file per message: the MDA gets the message on stdin
  writeFileSync(rcfile, `set no bouncemail\n${poll} mda "/bin/sh -c 'cat > ${out}/msg.$$$$'"\n`);
  chmodSync(rcfile, 0o600);
  const r = await run(
    'fetchmail',
    [
      '-f',
      rcfile,
      '--nodetach',
      '--nosyslog',
      '-v',
      '--idfile',
      join(home, 'ids'),
      '--pidfile',
      join(home, 'pid'),
      ...extra,
    ],
    { env: { ...process.env, FETCHMAILHOME: home, HOME: home }, timeoutMs: 60_000 },
  );
  const msgs = readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8'));
  return { code: r.code, msgs, log: r.out + r.err };
}

const subjects = (msgs: string[]): string[] =>
  msgs.map((m) => /^Subject: (.*)$/m.exec(m)?.[1]?.trim() ?? '?').sort();

test('fetchmail over IMAP with STARTTLS retrieves every message and deletes them', async () => {
  const { user, pass } = await userWith(2);
  const r = await fetchmail(
    `poll localhost port ${suite.ports.imap} protocol IMAP user "${user}" password "${pass}" sslproto 'tls1.2+' sslcertck sslcertfile "${suite.certFile}"`,
  );
  assert.equal(r.code, 0, r.log);
  assert.match(r.log, /STARTTLS/, 'the session was upgraded');
  assert.deepEqual(subjects(r.msgs), ['fetch me 1', 'fetch me 2'], r.log);
  assert.ok(r.msgs.every((m) => m.includes(`of ${user}`)));
  assert.deepEqual(await imapMailbox(suite.ports.imap!, user, pass), [], 'deleted on the server');
});

test('fetchmail over IMAP with --keep leaves the messages, marked \\Seen', async () => {
  const { user, pass } = await userWith(2);
  const r = await fetchmail(
    `poll localhost port ${suite.ports.imap} protocol IMAP user "${user}" password "${pass}" sslproto 'tls1.2+' sslcertck sslcertfile "${suite.certFile}"`,
    ['--keep'],
  );
  assert.equal(r.code, 0, r.log);
  assert.equal(r.msgs.length, 2, r.log);
  const left = await imapMailbox(suite.ports.imap!, user, pass);
  assert.equal(left.length, 2);
  assert.ok(
    left.every((m) => m.flags.includes('\\Seen')),
    left.map((m) => m.flags.join(' ')).join(' | '),
  );
});

test('fetchmail over POP3 retrieves every message and deletes them (no --keep)', async () => {
  const { user, pass } = await userWith(3);
  const r = await fetchmail(
    `poll 127.0.0.1 port ${suite.ports.pop3} protocol POP3 user "${user}" password "${pass}" sslproto ''`,
  );
  assert.equal(r.code, 0, r.log);
  assert.deepEqual(subjects(r.msgs), ['fetch me 1', 'fetch me 2', 'fetch me 3'], r.log);
  const bodies = r.msgs.map((m) => /body (\d) of/.exec(m)?.[1]).sort();
  assert.deepEqual(bodies, ['1', '2', '3'], 'bodies intact');
  assert.deepEqual(await popList(suite.ports.pop3!, user, pass), [], 'maildrop empty after QUIT');
});

test('fetchmail over POP3 with STLS and --keep leaves the maildrop as it was', async () => {
  const { user, pass } = await userWith(2);
  const r = await fetchmail(
    `poll localhost port ${suite.ports.pop3} protocol POP3 user "${user}" password "${pass}" sslproto 'tls1.2+' sslcertck sslcertfile "${suite.certFile}"`,
    ['--keep'],
  );
  assert.equal(r.code, 0, r.log);
  assert.match(r.log, /STLS/);
  assert.deepEqual(subjects(r.msgs), ['fetch me 1', 'fetch me 2'], r.log);
  assert.equal((await popList(suite.ports.pop3!, user, pass)).length, 2);
});

test('fetchmail over POP3 with --keep and UIDL: a second run fetches only the new message', async () => {
  const { user, pass } = await userWith(2);
  const home = join(suite.dir, `fetchmail-uidl-${user}`);
  const poll = `poll 127.0.0.1 port ${suite.ports.pop3} protocol POP3 uidl user "${user}" password "${pass}" sslproto ''`;
  const first = await fetchmail(poll, ['--keep'], home);
  assert.equal(first.code, 0, first.log);
  assert.equal(first.msgs.length, 2, first.log);
  await lmtpDeliver(suite.lmtpSocket, user, message('fetch me later', 'the third one'));
  const second = await fetchmail(poll, ['--keep'], home);
  assert.equal(second.code, 0, second.log);
  assert.deepEqual(subjects(second.msgs), ['fetch me later'], second.log);
  const third = await fetchmail(poll, ['--keep'], home);
  // fetchmail exits 1 when there was no new mail
  assert.equal(third.code, 1, third.log);
  assert.equal(third.msgs.length, 0, third.log);
});

test('fetchmail with protocol APOP (user made with cyr_saslpasswd -k) retrieves the mail', async () => {
  const { user, pass } = await userWith(1, true);
  const r = await fetchmail(
    `poll 127.0.0.1 port ${suite.ports.pop3} protocol APOP user "${user}" password "${pass}" sslproto ''`,
  );
  assert.equal(r.code, 0, r.log);
  assert.match(r.log, /APOP \S+ [0-9a-f]{32}/, 'fetchmail sent APOP with an MD5 digest');
  assert.deepEqual(subjects(r.msgs), ['fetch me 1'], r.log);
});

test('fetchmail --idle (daemon, IMAP IDLE) picks up a delivery within seconds', async (t) => {
  const { user, pass } = await userWith(1);
  const home = join(suite.dir, `fetchmail-idle-${user}`);
  const out = join(home, 'out');
  mkdirSync(out, { recursive: true });
  const rcfile = join(home, 'fetchmailrc');
  writeFileSync(
    rcfile,
    `set no bouncemail\npoll 127.0.0.1 port ${suite.ports.imap} protocol IMAP user "${user}" password "${pass}" sslproto '' idle mda "/bin/sh -c 'cat > ${out}/.part.$$$$ && mv ${out}/.part.$$$$ ${out}/msg.$$$$'"\n`,
  );
  chmodSync(rcfile, 0o600);
  const child = spawn(
    'fetchmail',
    [
      '-f',
      rcfile,
      '--nodetach',
      '--nosyslog',
      '-d',
      '300',
      '-v',
      '--idfile',
      join(home, 'ids'),
      '--pidfile',
      join(home, 'pid'),
    ],
    { env: { ...process.env, FETCHMAILHOME: home, HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const waitFiles = async (n: number, ms: number): Promise<void> => {
    const t0 = Date.now();
    // the mda writes .part.N and renames it when the whole message is in: count whole ones
    const whole = (): string[] => readdirSync(out).filter((f) => f.startsWith('msg.'));
    while (whole().length < n) {
      if (Date.now() - t0 > ms) throw new Error(`${whole().length} of ${n} messages after ${ms} ms:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    await waitFiles(1, 20_000); // the message already there
    const t0 = Date.now();
    while (!/IDLE/.test(log.split('\n').slice(-5).join('\n'))) {
      if (Date.now() - t0 > 10_000) throw new Error(`fetchmail did not enter IDLE:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const sent = Date.now();
    await lmtpDeliver(suite.lmtpSocket, user, message('while idling', 'woken up'));
    await waitFiles(2, 10_000);
    t.diagnostic(`fetchmail --idle fetched a new delivery ${Date.now() - sent} ms after LMTP started`);
    const msgs = readdirSync(out)
      .filter((f) => f.startsWith('msg.'))
      .map((f) => readFileSync(join(out, f), 'utf8'));
    assert.deepEqual(subjects(msgs), ['fetch me 1', 'while idling']);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
