/**
 * End to end with offlineimap (package offlineimap, offlineimap3) against the suite under
 * cyr_master: a one-shot sync (`-o -u quiet`) over STARTTLS (certificate checked against the
 * suite's self-signed one) into a local Maildir — every folder, every message intact, \Seen and
 * \Flagged as Maildir info flags — and a second run that carries local changes up.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapAppend, imapMailbox, lmtpDeliver, message } from './lib/clients.js';

const USER = 'oli';
const PASS = 'offline pw';
let suite: Suite;
let local: string;
let rc: string;

before(async () => {
  suite = await startSuite({ services: ['imap', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
  local = join(suite.dir, 'offline-mail');
  rc = join(suite.dir, 'offlineimaprc');
  writeFileSync(
    rc,
    [
      '[general]',
      'accounts = e2e',
      `metadata = ${join(suite.dir, 'offlineimap-meta')}`,
      '',
      '[Account e2e]',
      'localrepository = local',
      'remoterepository = remote',
      '',
      '[Repository local]',
      'type = Maildir',
      `localfolders = ${local}`,
      '',
      '[Repository remote]',
      'type = IMAP',
      'remotehost = localhost',
      `remoteport = ${suite.ports.imap}`,
      `remoteuser = ${USER}`,
      `remotepass = ${PASS}`,
      'ssl = no',
      'starttls = yes',
      `sslcacertfile = ${suite.certFile}`,
      '',
    ].join('\n'),
  );
});
after(async () => {
  await suite.stop();
});

/** one-shot sync (-o), quiet UI */
function offlineimap(): ReturnType<typeof run> {
  return run('offlineimap', ['-c', rc, '-o', '-u', 'quiet'], {
    env: { ...process.env, HOME: suite.dir },
    timeoutMs: 90_000,
  });
}

function files(root: string, folder: string): { name: string; text: string }[] {
  const out: { name: string; text: string }[] = [];
  for (const sub of ['cur', 'new']) {
    const d = join(root, folder, sub);
    if (existsSync(d))
      for (const f of readdirSync(d)) out.push({ name: f, text: readFileSync(join(d, f), 'utf8') });
  }
  return out;
}

test('offlineimap -o copies every folder and message into a Maildir, with flags', async () => {
  const first = message('plain delivery', 'delivered by lmtp');
  const second = message('already read and flagged', 'appended with flags');
  const third = message('in a folder', 'project notes');
  await lmtpDeliver(suite.lmtpSocket, USER, first);
  assert.equal(
    (await imapAppend(suite.ports.imap!, USER, PASS, 'INBOX', second, '(\\Seen \\Flagged)'))[0],
    'OK',
  );
  const created = await run('python3', [
    '-c',
    `import imaplib,sys; M=imaplib.IMAP4('127.0.0.1',${suite.ports.imap}); M.login(sys.argv[1],sys.argv[2]); print(M.create('Projects')[0]); M.logout()`,
    USER,
    PASS,
  ]);
  assert.match(created.out, /OK/);
  assert.equal((await imapAppend(suite.ports.imap!, USER, PASS, 'Projects', third))[0], 'OK');

  const r = await offlineimap();
  assert.equal(r.code, 0, `offlineimap failed:\n${r.out}\n${r.err}`);
  assert.doesNotMatch(r.out + r.err, /ERROR/, r.out + r.err);

  const inbox = files(local, 'INBOX');
  assert.equal(inbox.length, 2, JSON.stringify(inbox.map((f) => f.name)));
  const plain = inbox.find((f) => f.text.includes('Subject: plain delivery'))!;
  const flagged = inbox.find((f) => f.text.includes('Subject: already read and flagged'))!;
  assert.ok(plain && flagged);
  // the appended message arrives intact (offlineimap stores LF line ends, and may add an
  // X-OfflineIMAP header)
  const lf = (t: string): string => t.replace(/\r\n/g, '\n').replace(/^X-OfflineIMAP:.*\n/m, '');
  assert.equal(lf(flagged.text), lf(second));
  assert.equal(lf(plain.text).replace(/^(Return-Path|Received|X-[\w-]+):.*\n([ \t].*\n)*/gm, ''), lf(first));
  assert.match(flagged.name, /:2,[A-Z]*F[A-Z]*S/, `Maildir flags of ${flagged.name}`);
  assert.doesNotMatch(plain.name, /:2,[A-Z]*S/, `unread stays unread: ${plain.name}`);
  const projects = files(local, 'Projects');
  assert.equal(projects.length, 1);
  assert.match(projects[0]!.text, /project notes/);
});

test('offlineimap -o again: a local flag, a local new message and a local deletion reach the server', async () => {
  const inbox = files(local, 'INBOX');
  assert.equal(inbox.length, 2, 'state of the first test');
  const plain = inbox.find((f) => f.text.includes('Subject: plain delivery'))!;
  const flagged = inbox.find((f) => f.text.includes('Subject: already read and flagged'))!;
  const dir = (f: { name: string }): string =>
    existsSync(join(local, 'INBOX', 'cur', f.name))
      ? join(local, 'INBOX', 'cur')
      : join(local, 'INBOX', 'new');
  // mark "plain delivery" answered+seen, delete the flagged one, add a new message
  renameSync(
    join(dir(plain), plain.name),
    join(local, 'INBOX', 'cur', `${plain.name.replace(/:2,.*$/, '')}:2,RS`),
  );
  unlinkSync(join(dir(flagged), flagged.name));
  writeFileSync(
    join(local, 'INBOX', 'new', `${Date.now()}.e2e.localhost`),
    message('written offline', 'local body'),
  );

  const r = await offlineimap();
  assert.equal(r.code, 0, `offlineimap failed:\n${r.out}\n${r.err}`);
  assert.doesNotMatch(r.out + r.err, /ERROR/, r.out + r.err);

  const server = await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX');
  const bySubject = new Map(server.map((m) => [/^Subject: (.*)$/m.exec(m.text)?.[1]?.trim(), m]));
  assert.deepEqual([...bySubject.keys()].sort(), ['plain delivery', 'written offline']);
  const p = bySubject.get('plain delivery')!;
  assert.ok(p.flags.includes('\\Answered') && p.flags.includes('\\Seen'), p.flags.join(' '));
  assert.match(bySubject.get('written offline')!.text, /local body/);
});
