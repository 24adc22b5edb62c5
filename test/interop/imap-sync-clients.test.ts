/**
 * imapd against mail synchronisers and fetchers (issue #5): mbsync (isync) pulls every
 * folder into a Maildir and pushes a local message back; fetchmail fetches over IMAP into an
 * MDA. Needs isync and fetchmail (.ci/packages.txt).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RawClient, startTestImapd, type TestImapd } from '../../src/protocols/imap/test-helpers.js';

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd({ sync: 'syncpw', fetch: 'fetchpw' });
});
after(async () => {
  await srv.stop();
});

function run(cmd: string, args: string[], timeoutMs = 30000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: srv.dir } });
    let out = '';
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} timed out: ${out}`));
    }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

async function seed(user: string, pass: string, boxes: Record<string, string[]>): Promise<void> {
  const c = await RawClient.connect(srv.port);
  await c.login(user, pass);
  for (const [box, subjects] of Object.entries(boxes)) {
    if (box !== 'INBOX') await c.cmd(`CREATE ${box}`);
    for (const s of subjects) {
      const m = `From: x@example.org\r\nTo: ${user}@example.org\r\nSubject: ${s}\r\nMessage-ID: <${s.replace(/\W/g, '')}@example.org>\r\n\r\nbody of ${s}\r\n`;
      c.write(`a APPEND ${box} {${m.length}+}\r\n${m}\r\n`);
      assert.match((await c.until('a')).tagged, /^OK/);
    }
  }
  await c.cmd('LOGOUT');
  c.close();
}

function maildirFiles(dir: string): string[] {
  const out: string[] = [];
  for (const sub of ['cur', 'new']) {
    try {
      for (const f of readdirSync(join(dir, sub))) out.push(readFileSync(join(dir, sub, f), 'latin1'));
    } catch {
      // missing
    }
  }
  return out;
}

test('mbsync: pull INBOX and a folder into a Maildir, push a new local message back', async () => {
  await seed('sync', 'syncpw', { INBOX: ['first', 'second'], Lists: ['list mail'] });
  const local = join(srv.dir, 'Mail');
  mkdirSync(local, { recursive: true });
  const rc = join(srv.dir, 'mbsyncrc');
  writeFileSync(
    rc,
    [
      'IMAPAccount test',
      'Host 127.0.0.1',
      `Port ${srv.port}`,
      'User sync',
      'Pass syncpw',
      'SSLType None',
      'AuthMechs LOGIN',
      '',
      'IMAPStore remote',
      'Account test',
      '',
      'MaildirStore local',
      `Path ${local}/`,
      `Inbox ${local}/INBOX`,
      'SubFolders Verbatim',
      '',
      'Channel all',
      'Far :remote:',
      'Near :local:',
      'Patterns *',
      'Create Both',
      'SyncState *',
      '',
    ].join('\n'),
  );
  const r = await run('mbsync', ['-c', rc, '-a']);
  assert.equal(r.code, 0, r.out);
  const inbox = maildirFiles(join(local, 'INBOX'));
  assert.equal(inbox.length, 2, r.out);
  assert.ok(inbox.some((m) => m.includes('Subject: first')));
  assert.ok(maildirFiles(join(local, 'Lists')).some((m) => m.includes('Subject: list mail')));
  // a new local message goes up on the next run
  writeFileSync(
    join(local, 'Lists', 'new', `${Date.now()}.local:2,`),
    'From: me@example.org\r\nSubject: from maildir\r\n\r\nhi\r\n',
  );
  const r2 = await run('mbsync', ['-c', rc, '-a']);
  assert.equal(r2.code, 0, r2.out);
  const c = await RawClient.connect(srv.port);
  await c.login('sync', 'syncpw');
  await c.cmd('SELECT Lists');
  const s = await c.cmd('SEARCH SUBJECT "from maildir"');
  assert.deepEqual(s.lines, ['* SEARCH 2']);
  c.close();
});

test('fetchmail: fetch everything over IMAP into an MDA', async () => {
  await seed('fetch', 'fetchpw', { INBOX: ['fetch one', 'fetch two'] });
  const out = join(srv.dir, 'fetched.mbox');
  const rc = join(srv.dir, 'fetchmailrc');
  writeFileSync(
    rc,
    `poll 127.0.0.1 protocol IMAP port ${srv.port} auth password user "fetch" password "fetchpw" sslproto '' mda "/bin/sh -c 'cat >> ${out}'" fetchall keep\n`,
  );
  chmodSync(rc, 0o600);
  const r = await run('fetchmail', ['-f', rc, '--nosslcertck', '-v', '--idfile', join(srv.dir, 'fetchids')]);
  assert.equal(r.code, 0, r.out);
  const got = readFileSync(out, 'latin1');
  assert.match(got, /Subject: fetch one/);
  assert.match(got, /Subject: fetch two/);
});
