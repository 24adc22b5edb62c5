/**
 * Interop: cyr_saslpasswd driven as a real process, the way administrators and scripts use
 * saslpasswd2 (`echo pass | cyr_saslpasswd -C imapd.conf -p -c user1`), then the result read
 * back through the store the servers use.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SasldbStore } from '../../src/auth/passwords.js';

const BIN = fileURLToPath(new URL('../../src/bin/cyr_saslpasswd.js', import.meta.url));
let dir: string;
let conf: string;
let db: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'saslpasswd-'));
  db = join(dir, 'lib', 'sasldb2');
  conf = join(dir, 'imapd.conf');
  writeFileSync(
    conf,
    `configdirectory: ${join(dir, 'lib')}\nsasl_sasldb_path: ${db}\nvirtdomains: userid\ndefaultdomain: example.com\n`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], stdin = ''): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin);
  });
}

test("create with -p -c from a pipe, then the servers' store accepts the password", async () => {
  const r = await run(['-C', conf, '-p', '-c', 'user1'], 'secret one\n');
  assert.equal(r.code, 0, r.err);
  assert.equal(statSync(db).mode & 0o777, 0o600);
  const s = new SasldbStore(db);
  try {
    assert.equal(await s.verify('user1', 'secret one'), true);
    assert.equal(await s.cleartext('user1'), null);
  } finally {
    s.close();
  }
});

test('-u realm, -k cleartext, -l list, change and delete', async () => {
  assert.equal((await run(['-C', conf, '-p', '-c', '-k', '-u', 'Other.NET', 'Joe'], 'pw2\n')).code, 0);
  // the default domain is dropped, as in logins
  assert.equal((await run(['-C', conf, '-p', '-c', 'ann@example.com'], 'pw3\n')).code, 0);
  const list = await run(['-C', conf, '-l']);
  assert.equal(list.code, 0);
  assert.deepEqual(list.out.trim().split('\n'), ['ann', 'joe@other.net', 'user1']);
  // without -c an unknown user is refused, a known one changed
  const unknown = await run(['-C', conf, '-p', 'ghost'], 'x\n');
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /not found/);
  assert.equal((await run(['-C', conf, '-p', 'user1'], 'changed\n')).code, 0);
  const s = new SasldbStore(db);
  try {
    assert.equal(await s.verify('user1', 'changed'), true);
    assert.equal(await s.cleartext('joe@other.net'), 'pw2');
  } finally {
    s.close();
  }
  assert.equal((await run(['-C', conf, '-d', 'ann'])).code, 0);
  assert.equal((await run(['-C', conf, '-d', 'ann'])).code, 1);
});

test('usage and configuration errors: clear message, no stack trace, non-zero exit', async () => {
  const bad = await run(['-C', conf, '-Z', 'x']);
  assert.equal(bad.code, 64);
  assert.match(bad.err, /unknown option -Z/);
  const none = await run(['-C', conf, '-p', '-c'], 'x\n');
  assert.equal(none.code, 64);
  const empty = await run(['-C', conf, '-p', '-c', 'user2'], '\n');
  assert.equal(empty.code, 1);
  assert.match(empty.err, /empty password/);
  const noconf = await run(['-C', join(dir, 'missing.conf'), '-l']);
  assert.equal(noconf.code, 78);
  assert.doesNotMatch(noconf.err, /\n\s+at /);
  const help = await run(['-h']);
  assert.equal(help.code, 0);
  assert.match(help.out, /^usage: cyr_saslpasswd/);
});

test('-I imports the users of a Cyrus SASL (Berkeley DB) sasldb made by saslpasswd2', async () => {
  const bdb = join(dir, 'cyrus-sasldb2');
  const saslpasswd2 = (args: string[], pw: string): Promise<number | null> =>
    new Promise((resolve) => {
      const p = spawn('saslpasswd2', ['-f', bdb, '-p', ...args], { stdio: ['pipe', 'ignore', 'ignore'] });
      p.on('close', resolve);
      p.stdin.end(pw + '\n');
    });
  assert.equal(await saslpasswd2(['-c', 'olduser'], 'old pass:1'), 0);
  assert.equal(await saslpasswd2(['-c', '-u', 'other.org', 'remote'], 'r3mote'), 0);
  const importConf = join(dir, 'import.conf');
  const target = join(dir, 'imported.db');
  writeFileSync(
    importConf,
    `configdirectory: ${join(dir, 'lib')}\nsasl_sasldb_path: ${target}\nvirtdomains: userid\ndefaultdomain: example.com\n`,
  );
  const r = await run(['-C', importConf, '-k', '-I', bdb]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /imported 2 users/);
  const s = new SasldbStore(target);
  try {
    assert.equal(await s.verify('olduser', 'old pass:1'), true);
    assert.equal(await s.verify('remote@other.org', 'r3mote'), true);
    assert.equal(await s.cleartext('olduser'), 'old pass:1');
  } finally {
    s.close();
  }
  // pointing the servers at the Berkeley DB file itself fails closed with a clear log line
  const { createAuthenticator } = await import('../../src/auth/authenticator.js');
  const { testConf } = await import('../../src/auth/test-conf.js');
  const { memoryLogger } = await import('../../src/log/logger.js');
  const log = memoryLogger();
  const auth = createAuthenticator(testConf({ sasl_sasldb_path: bdb, allowplaintext: 'yes' }), log);
  assert.equal(await auth.checkPassword('olduser', 'old pass:1', { service: 'imap', secure: false }), null);
  assert.ok(
    log.lines.some((l) => /is not a cyrus-ts sasldb .*cyr_saslpasswd -I/.test(l)),
    log.lines.join('\n'),
  );
  // importing into the same file is refused
  assert.equal((await run(['-C', importConf, '-f', bdb, '-I', bdb])).code, 64);
});
