import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, protocolOf } from './devsetup.js';
import { SasldbStore } from '../auth/passwords.js';

function site(): { dir: string; conf: string; cyrus: string } {
  const dir = mkdtempSync(join(tmpdir(), 'devsetup-'));
  const conf = join(dir, 'imapd.conf');
  const cyrus = join(dir, 'cyrus.conf');
  writeFileSync(
    conf,
    `configdirectory: ${dir}/lib\nsasl_sasldb_path: ${dir}/lib/sasldb\npartition-default: ${dir}/spool\n`,
  );
  writeFileSync(
    cyrus,
    `SERVICES {\n  imap cmd="imapd" listen="127.0.0.1:1143"\n  imaps cmd="imapd -s" listen="127.0.0.1:1993"\n  lmtpunix cmd="lmtpd" listen="${dir}/lmtp"\n  sieve cmd="timsieved" listen="127.0.0.1:14190"\n}\n`,
  );
  return { dir, conf, cyrus };
}

test('devsetup creates dev once, remembers the password 0600, prints the services', async () => {
  const s = site();
  try {
    let out = '';
    const inboxes: string[] = [];
    const io = {
      stdout: (t: string) => (out += t),
      stderr: () => {},
      ensureInbox: async (_c: unknown, u: string) => void inboxes.push(u),
    };
    assert.equal(await main(['-C', s.conf, '-M', s.cyrus], io), 0);
    const cred = join(s.dir, 'lib', 'dev-credentials');
    assert.equal(statSync(cred).mode & 0o777, 0o600);
    const pw = /password: (\S+)/.exec(readFileSync(cred, 'utf8'))![1];
    assert.match(out, new RegExp(`password: ${pw}`));
    assert.match(out, /IMAP\s+127\.0\.0\.1:1143\s+\(imap\)/);
    assert.match(out, /IMAPS\s+127\.0\.0\.1:1993/);
    assert.match(out, new RegExp(`LMTP\\s+${s.dir}/lmtp`));
    assert.match(out, /ManageSieve\s+127\.0\.0\.1:14190/);
    assert.deepEqual(inboxes, ['dev']);
    const store = new SasldbStore(join(s.dir, 'lib', 'sasldb'));
    assert.equal(await store.verify('dev', pw), true);
    store.close();
    // second start: same password, no new INBOX
    out = '';
    assert.equal(await main(['-C', s.conf, '-M', s.cyrus], io), 0);
    assert.match(out, new RegExp(`password: ${pw}`));
    assert.deepEqual(inboxes, ['dev']);
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});

test('devsetup: bad usage and missing cyrus.conf give exit codes', async () => {
  const s = site();
  try {
    const io = { stdout: () => {}, stderr: () => {} };
    assert.equal(await main(['-C', s.conf, '-M', join(s.dir, 'nope.conf')], io), 78);
    assert.equal(await main(['-C', s.conf, 'extra'], io), 64);
    assert.equal(
      protocolOf({
        name: 'x',
        cmd: ['pop3d', '-s'],
        listen: '',
        proto: 'tcp',
        prefork: 0,
        maxchild: -1,
        babysit: false,
        maxforkrate: 0,
        maxfds: 0,
        line: 1,
      }),
      'POP3S',
    );
  } finally {
    rmSync(s.dir, { recursive: true, force: true });
  }
});
