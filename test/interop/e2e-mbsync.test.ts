/**
 * End to end with mbsync (package isync) against the suite under cyr_master: a two-way sync
 * between our IMAP server (STARTTLS, certificate verified against the suite's self-signed one)
 * and a local Maildir. New server messages and folders come down; a message flagged locally, a
 * message added locally, a folder made locally and a message trashed locally go up — verified
 * on the server with Python's imaplib.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapAppend, imapList, imapMailbox, lmtpDeliver, lmtpDeliverMany, message } from './lib/clients.js';

const USER = 'mbs';
const PASS = 'mb-sync-pw';
let suite: Suite;
let mail: string;
let rc: string;

before(async () => {
  suite = await startSuite({ services: ['imap', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
  mail = join(suite.dir, 'Maildir');
  mkdirSync(mail);
  rc = join(suite.dir, 'mbsyncrc');
  writeFileSync(
    rc,
    [
      'IMAPAccount cyrus',
      'Host localhost', // isync 1.4 matches only DNS names of the certificate
      `Port ${suite.ports.imap}`,
      `User ${USER}`,
      `Pass ${PASS}`,
      'SSLType STARTTLS',
      `CertificateFile ${suite.certFile}`,
      '',
      'IMAPStore remote',
      'Account cyrus',
      '',
      'MaildirStore local',
      `Path ${mail}/`,
      `Inbox ${mail}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel both',
      'Far :remote:',
      'Near :local:',
      'Patterns *',
      'Create Both',
      'Expunge Both',
      'SyncState *',
      'Sync All',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await suite.stop();
});

async function mbsync(): Promise<void> {
  const r = await run('mbsync', ['-c', rc, '-a'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `mbsync failed (${r.code ?? r.signal}):\n${r.out}\n${r.err}`);
}

/** files of a local Maildir folder (cur and new) */
function maildirFiles(folder: string): string[] {
  const out: string[] = [];
  for (const sub of ['cur', 'new']) {
    const d = join(mail, folder, sub);
    if (existsSync(d)) for (const f of readdirSync(d)) out.push(join(d, f));
  }
  return out;
}

test('mbsync: server mail comes down, local changes go up', async () => {
  // on the server: two deliveries to INBOX and a folder with one message
  await lmtpDeliver(suite.lmtpSocket, USER, message('down one', 'first body'));
  await lmtpDeliver(suite.lmtpSocket, USER, message('down two', 'second body'));
  const [st] = await imapAppend(suite.ports.imap!, USER, PASS, 'INBOX', message('to be trashed', 'bye'));
  assert.equal(st, 'OK');
  await run('python3', [
    '-c',
    `import imaplib,sys; M=imaplib.IMAP4('127.0.0.1',${suite.ports.imap}); M.login(sys.argv[1],sys.argv[2]); print(M.create('Lists')); M.logout()`,
    USER,
    PASS,
  ]);
  await imapAppend(suite.ports.imap!, USER, PASS, 'Lists', message('list post', 'from a list'));

  await mbsync();
  const inbox = maildirFiles('INBOX');
  assert.equal(inbox.length, 3, `local INBOX: ${inbox.join(' ')}`);
  const texts = inbox.map((f) => readFileSync(f, 'utf8'));
  for (const s of ['down one', 'down two', 'to be trashed'])
    assert.ok(
      texts.some((t) => t.includes(`Subject: ${s}`)),
      s,
    );
  const lists = maildirFiles('Lists');
  assert.equal(lists.length, 1, 'the server folder came down');
  assert.match(readFileSync(lists[0]!, 'utf8'), /Subject: list post/);

  // local changes: flag "down one", trash "to be trashed", add a message, make a folder
  const flagFile = inbox[texts.findIndex((t) => t.includes('Subject: down one'))]!;
  const trashFile = inbox[texts.findIndex((t) => t.includes('Subject: to be trashed'))]!;
  const withFlags = (f: string, flags: string): string => {
    const base = f.replace(/\/new\//, '/cur/').replace(/:2,[A-Z]*$/, '');
    return `${base}:2,${flags}`;
  };
  renameSync(flagFile, withFlags(flagFile, 'FS'));
  renameSync(trashFile, withFlags(trashFile, 'ST'));
  writeFileSync(
    join(mail, 'INBOX', 'new', `${Date.now()}.e2e1.localhost`),
    message('made locally', 'up we go'),
  );
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(mail, 'Local', sub), { recursive: true });
  writeFileSync(
    join(mail, 'Local', 'cur', `${Date.now()}.e2e2.localhost:2,S`),
    message('in a local folder', 'z'),
  );

  await mbsync();
  const server = await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX');
  const subjects = server.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim()).sort();
  assert.deepEqual(
    subjects,
    ['down one', 'down two', 'made locally'],
    'trashed message expunged, new one appended',
  );
  const one = server.find((m) => m.text.includes('Subject: down one'))!;
  assert.ok(one.flags.includes('\\Flagged') && one.flags.includes('\\Seen'), `flags: ${one.flags.join(' ')}`);
  const made = server.find((m) => m.text.includes('Subject: made locally'))!;
  assert.match(made.text, /\r\n\r\nup we go\r\n/);
  const list = await imapList(suite.ports.imap!, USER, PASS);
  assert.ok(
    list.some((l) => /"?Local"?$/.test(l)),
    `folder created on the server: ${list.join(' | ')}`,
  );
  const local = await imapMailbox(suite.ports.imap!, USER, PASS, 'Local');
  assert.equal(local.length, 1);
  assert.ok(local[0]!.flags.includes('\\Seen'));
  assert.match(local[0]!.text, /Subject: in a local folder/);

  // a third run changes nothing either side
  await mbsync();
  assert.equal((await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX')).length, 3);
  assert.equal(maildirFiles('INBOX').length, 3);
});

test('mbsync with 300 messages: pull, then 100 marked read and 50 trashed locally go up', async (t) => {
  const user = 'mbsbulk';
  const pass = 'bulk-pw';
  await suite.addUser(user, pass);
  await lmtpDeliverMany(
    suite.lmtpSocket,
    user,
    Array.from({ length: 300 }, (_, i) =>
      message(`bulk ${i}`, `bulk body ${i}\r\n${'filler line\r\n'.repeat(20)}`),
    ),
  );
  const local = join(suite.dir, 'Bulk');
  mkdirSync(local);
  const bulkRc = join(suite.dir, 'mbsyncrc-bulk');
  writeFileSync(
    bulkRc,
    readFileSync(rc, 'utf8')
      .replace(`User ${USER}`, `User ${user}`)
      .replace(`Pass ${PASS}`, `Pass ${pass}`)
      .replaceAll(`${mail}/`, `${local}/`),
  );
  const sync = async (): Promise<number> => {
    const r = await run('mbsync', ['-c', bulkRc, '-a'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, `mbsync failed (${r.code ?? r.signal}):\n${r.out}\n${r.err}`);
    return r.ms;
  };
  const pull = await sync();
  t.diagnostic(`mbsync first pull of 300 messages: ${pull} ms`);
  const files = ['cur', 'new'].flatMap((sub) =>
    readdirSync(join(local, 'INBOX', sub)).map((f) => join(local, 'INBOX', sub, f)),
  );
  assert.equal(files.length, 300);
  const number = (f: string): number => Number(/Subject: bulk (\d+)/.exec(readFileSync(f, 'utf8'))![1]);
  for (const f of files) {
    const i = number(f);
    const base = f.replace('/new/', '/cur/').replace(/:2,[A-Z]*$/, '');
    if (i < 100) renameSync(f, `${base}:2,S`);
    else if (i >= 250) renameSync(f, `${base}:2,T`);
  }
  const push = await sync();
  t.diagnostic(`mbsync pushing 100 flag changes and 50 expunges: ${push} ms`);
  const server = await imapMailbox(suite.ports.imap!, user, pass);
  assert.equal(server.length, 250);
  const seen = server
    .filter((m) => m.flags.includes('\\Seen'))
    .map((m) => Number(/Subject: bulk (\d+)/.exec(m.text)![1]));
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 100 }, (_, i) => i),
  );
  const again = await sync();
  t.diagnostic(`mbsync with nothing to do: ${again} ms`);
});

test('mbsync logs out cleanly: BYE and OK for LOGOUT arrive although COMPRESS=DEFLATE is on', async () => {
  // mbsync turns on COMPRESS=DEFLATE whenever offered; its network trace (-Dn) shows the
  // server's answers. RFC 3501 §6.1.3: LOGOUT gets an untagged BYE and then a tagged OK.
  const r = await run('mbsync', ['-Dn', '-c', rc, '-a'], { timeoutMs: 60_000 });
  const trace = r.out + r.err;
  assert.equal(r.code, 0, trace);
  assert.match(trace, />>> \d+ COMPRESS DEFLATE/, 'compression was negotiated');
  const tag = /^>>> (\d+) LOGOUT/m.exec(trace)?.[1];
  assert.ok(tag, 'mbsync sent LOGOUT');
  const after = trace.slice(trace.search(/^>>> \d+ LOGOUT/m));
  assert.doesNotMatch(after, /unexpected EOF|Socket error/, after);
  assert.match(after, /^\* BYE/m, after);
  assert.match(after, new RegExp(`^${tag} OK`, 'm'), after);
});
