/**
 * A private Postfix instance delivering to our lmtpd over its unix socket, with recipients
 * checked through our smmapd (`socketmap:`), then read back over POP3 (issue #7).
 *
 * The instance never touches the system one: its own config_directory, queue_directory and
 * data_directory under a temp dir, loopback only, smtpd on a free port (the proto's port-25
 * `smtp` service is removed), no chroot, no outbound mail. It is started with
 * `postfix -c <dir> start` and stopped by signalling its master's pid. Needs root (Postfix's
 * master must start as root to drop to `mail_owner`), as in CI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './lib/run.js';
import { messageCount, messageTexts, startDeliverySite } from '../../src/protocols/lmtp/test-kit.js';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function until(what: string, cond: () => boolean, ms: number, log: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('Postfix → LMTP unix socket → INBOX → POP3, socketmap recipient checks', async () => {
  const s = await startDeliverySite();
  const dir = mkdtempSync(join(tmpdir(), 'postfix-'));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'conf');
  const maillog = join(dir, 'maillog');
  const readLog = (): string => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '(no maillog)');
  let masterPid = 0;
  try {
    for (const d of ['conf', 'queue', 'data']) mkdirSync(join(dir, d), { mode: 0o755 });
    const postfixUid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
    chownSync(join(dir, 'data'), postfixUid, -1);
    const smtpPort = await freePort();
    const socketmap = `socketmap:inet:127.0.0.1:${s.smmapPort}:cyrus`;
    const lmtp = `lmtp:unix:${s.lmtpSocket}`;
    copyFileSync('/etc/postfix/master.cf.proto', join(conf, 'master.cf'));
    writeFileSync(
      join(conf, 'main.cf'),
      [
        'compatibility_level = 3.6',
        `queue_directory = ${join(dir, 'queue')}`,
        `data_directory = ${join(dir, 'data')}`,
        'mail_owner = postfix',
        'setgid_group = postdrop',
        'inet_interfaces = 127.0.0.1',
        'inet_protocols = ipv4',
        'myhostname = test.example',
        'mydomain = test.example',
        'myorigin = test.example',
        'mydestination = test.example, localhost',
        'mynetworks = 127.0.0.0/8',
        'alias_maps =',
        'alias_database =',
        `mailbox_transport = ${lmtp}`,
        `virtual_transport = ${lmtp}`,
        `local_recipient_maps = ${socketmap}`,
        `smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination`,
        'default_transport = error:no outbound mail from the test instance',
        'relay_transport = error:no outbound mail from the test instance',
        `maillog_file = ${maillog}`,
        `maillog_file_prefixes = ${dir}`,
        '',
      ].join('\n'),
    );
    const pc = (args: string[]): void =>
      void execFileSync('postconf', ['-c', conf, ...args], { stdio: 'pipe' });
    pc(['-F', '*/*/chroot = n']);
    pc(['-MX', 'smtp/inet']);
    pc(['-M', `127.0.0.1:${smtpPort}/inet = 127.0.0.1:${smtpPort} inet n - n - - smtpd`]);

    // the socketmap itself, as Postfix's own map client sees it
    const hit = await run('postmap', ['-c', conf, '-q', 'fred', socketmap]);
    assert.equal(hit.code, 0, hit.err);
    assert.equal(hit.out.trim(), 'fred');
    const miss = await run('postmap', ['-c', conf, '-q', 'ghost', socketmap]);
    assert.equal(miss.code, 1, miss.out + miss.err);

    const start = await run('postfix', ['-c', conf, 'start']);
    const pidFile = join(dir, 'queue', 'pid', 'master.pid');
    await until(
      'the Postfix master',
      () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '',
      15_000,
      () => start.err + readLog(),
    );
    masterPid = Number(readFileSync(pidFile, 'utf8').trim());
    assert.ok(masterPid > 0 && alive(masterPid));

    // 1. the instance's own sendmail: pickup → cleanup → qmgr → lmtp → our lmtpd
    const sent = await run('sendmail', ['-C', conf, '-f', 'sender@example.org', 'fred@test.example'], {
      input:
        'From: sender@example.org\nTo: fred@test.example\nSubject: via postfix\n\nhello from postfix\n.leading dot\n',
    });
    assert.equal(sent.code, 0, sent.err);
    await until('delivery to fred', () => messageCount(s.store, 'user.fred') === 1, 20_000, readLog);
    const text = messageTexts(s.store, 'user.fred')[0]!;
    assert.match(text, /^Return-Path: <sender@example\.org>\r\n/);
    assert.match(text, /Subject: via postfix\r\n/);

    // 2. SMTP to the instance's smtpd: the socketmap refuses unknown users at RCPT
    const smtp = await run('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      String(smtpPort),
      '--from',
      'sender@example.org',
      '--to',
      'ghost@test.example',
      '--header',
      'Subject: to ghost',
    ]);
    assert.notEqual(smtp.code, 0);
    assert.match(
      smtp.out,
      /<\*\* +550 5\.1\.1 <ghost@test\.example>: Recipient address rejected: User unknown in local recipient table/,
    );
    const smtpOk = await run('swaks', [
      '--server',
      '127.0.0.1',
      '--port',
      String(smtpPort),
      '--from',
      'sender@example.org',
      '--to',
      'bob@test.example',
      '--header',
      'Subject: smtp to bob',
    ]);
    assert.equal(smtpOk.code, 0, smtpOk.out);
    await until('delivery to bob', () => messageCount(s.store, 'user.bob') === 1, 20_000, readLog);
    assert.match(readLog(), /status=sent \(250 2\.1\.5 ok SESSIONID=/);

    // 3. read it back over POP3
    const pop = await run('python3', [
      '-c',
      `import poplib,sys\nP=poplib.POP3('127.0.0.1',${s.pop3Port})\nP.user('fred');P.pass_('secret')\nprint(b"\\n".join(P.retr(1)[1]).decode())\nP.quit()`,
    ]);
    assert.equal(pop.code, 0, pop.err);
    assert.match(pop.out, /Subject: via postfix\n/);
    assert.match(pop.out, /\nhello from postfix\n\.leading dot\n/);
  } finally {
    if (masterPid > 0 && alive(masterPid)) {
      process.kill(masterPid, 'SIGTERM');
      const end = Date.now() + 10_000;
      while (alive(masterPid) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    }
    rmSync(dir, { recursive: true, force: true });
    await s.stop();
  }
});
