/**
 * End to end across three services under one cyr_master: sieve-connect (package
 * sieve-connect) uploads and activates a script over ManageSieve with STARTTLS (certificate
 * checked against the suite's self-signed one); lmtpd then files deliveries as the script says;
 * Python's imaplib reads the result from imapd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { python } from './lib/run.js';
import { imapList, imapMailbox, lmtpDeliver, message } from './lib/clients.js';

const USER = 'siv';
const PASS = 'sieve pw';
let suite: Suite;

before(async () => {
  suite = await startSuite({ services: ['imap', 'lmtp', 'sieve'] });
  await suite.addUser(USER, PASS);
});
after(async () => {
  await suite.stop();
});

/** sieve-connect with the password on fd 3 */
function sieveConnect(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      'sieve-connect',
      [
        '-s',
        'localhost',
        '-p',
        String(suite.ports.sieve),
        '-u',
        USER,
        '--passwordfd',
        '3',
        '--tlscafile',
        suite.certFile,
        ...args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
    (p.stdio[3] as NodeJS.WritableStream).end(`${PASS}\n`);
  });
}

const CREATE = String.raw`
import imaplib, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); M.login(sys.argv[2], sys.argv[3])
typ, data = M.create(sys.argv[4]); M.logout()
print('"' + typ + '"')
`;

test('a script uploaded with sieve-connect files LMTP deliveries into folders imapd shows', async () => {
  // Cyrus 3 defaults (altnamespace, unixhierarchysep): personal folders sit beside INBOX and
  // Sieve names them as IMAP does. A first login autocreates INBOX; 'lists' exists before delivery
  assert.equal(await python(CREATE, [suite.ports.imap!, USER, PASS, 'lists']), 'OK');
  const local = join(suite.dir, 'rules.siv');
  writeFileSync(
    local,
    [
      'require ["fileinto", "mailbox"];',
      'if header :contains "subject" "[list]" { fileinto "lists"; stop; }',
      'if header :contains "subject" "[new]" { fileinto :create "fresh"; stop; }',
      '',
    ].join('\n'),
  );
  let r = await sieveConnect(['--upload', '--localsieve', local, '--remotesieve', 'rules']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(['--activate', '--remotesieve', 'rules']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(['--list']);
  assert.match(r.out, /"?rules"?\s+ACTIVE/, r.out);

  await lmtpDeliver(suite.ports.lmtp!, USER, message('[list] weekly digest', 'list traffic'));
  await lmtpDeliver(suite.ports.lmtp!, USER, message('hello there', 'personal mail'));
  await lmtpDeliver(suite.ports.lmtp!, USER, message('[new] goes to a new folder', 'created by sieve'));

  const inbox = await imapMailbox(suite.ports.imap!, USER, PASS, 'INBOX');
  assert.deepEqual(
    inbox.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim()),
    ['hello there'],
  );
  const lists = await imapMailbox(suite.ports.imap!, USER, PASS, 'lists');
  assert.equal(lists.length, 1);
  assert.match(lists[0]!.text, /Subject: \[list\] weekly digest/);
  assert.ok(
    (await imapList(suite.ports.imap!, USER, PASS)).some((l) => /fresh"?$/.test(l)),
    'fileinto :create',
  );
  const fresh = await imapMailbox(suite.ports.imap!, USER, PASS, 'fresh');
  assert.equal(fresh.length, 1);
  assert.match(fresh[0]!.text, /created by sieve/);
});
