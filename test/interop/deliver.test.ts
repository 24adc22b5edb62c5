/**
 * cyr_deliver and cyr_ctl_deliver as programs (issue #7): direct delivery when no lmtpd
 * listens, delivery through lmtpd on `lmtpsocket`, `-l` (LMTP on stdin/stdout), sysexits
 * codes, and the deliver.db dump/prune.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveForTest } from '../../src/services/harness.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/api.js';
import lmtpd from '../../src/protocols/lmtp/service.js';
import { mail, makeSite, type Site } from '../../src/protocols/lmtp/test-kit.js';

const BIN = fileURLToPath(new URL('../../src/bin/', import.meta.url));
const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

function run(tool: string, args: string[], input = ''): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [join(BIN, `${tool}.js`), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
    p.stdin.end(input);
  });
}

function firstMessage(store: Store, box: string): string {
  const v = store.open(admin, box, { readOnly: true });
  try {
    const uid = v.uids()[0];
    return uid === undefined ? '' : readFileSync(v.path(uid), 'latin1');
  } finally {
    v.close();
  }
}

function siteWithUsers(extra: Record<string, string | boolean | number> = {}): { site: Site; store: Store } {
  const site = makeSite(extra);
  mkdirSync(join(site.dir, 'conf', 'socket'), { recursive: true });
  const store = openStore(site.conf('deliver'));
  store.ensureInbox('fred');
  store.ensureInbox('bob');
  store.createMailbox(admin, 'user.fred.lists');
  store.setAcl(admin, 'user.fred.lists', 'anyone', 'p');
  return { site, store };
}

test('cyr_deliver delivers directly when no lmtpd listens; exit codes', async () => {
  const { site, store } = siteWithUsers();
  try {
    const ok = await run(
      'cyr_deliver',
      ['-C', site.confPath, '-r', 'sender@example.org', 'fred', 'bob'],
      mail('d1', 'bare LF\nlines\n'),
    );
    assert.equal(ok.code, 0, ok.err);
    assert.equal(store.status(admin, 'user.fred').messages, 1);
    assert.equal(store.status(admin, 'user.bob').messages, 1);
    const text = firstMessage(store, 'user.fred');
    assert.match(text, /^Return-Path: <sender@example\.org>\r\nReceived: from localhost \(local\)/);
    assert.ok(text.endsWith('\r\n\r\nbare LF\r\nlines\r\n'));
    const folder = await run('cyr_deliver', ['-C', site.confPath, '-m', 'lists', 'fred'], mail('d2'));
    assert.equal(folder.code, 0, folder.err);
    assert.equal(store.status(admin, 'user.fred.lists').messages, 1);
    const nouser = await run('cyr_deliver', ['-C', site.confPath, 'ghost'], mail('d3'));
    assert.equal(nouser.code, 67);
    assert.match(nouser.err, /ghost: 550 5\.1\.1/);
    store.setQuota(admin, 'user.bob', { message: 0 });
    const quota = await run('cyr_deliver', ['-C', site.confPath, 'bob'], mail('d4'));
    assert.equal(quota.code, 75, 'over quota is a temporary failure');
    const q = await run('cyr_deliver', ['-C', site.confPath, '-q', 'bob'], mail('d4'));
    assert.equal(q.code, 0, q.err);
    const usage = await run('cyr_deliver', ['-C', site.confPath]);
    assert.equal(usage.code, 64);
    assert.match(usage.err, /no recipients/);
    const badopt = await run('cyr_deliver', ['-C', site.confPath, '-Z', 'fred']);
    assert.equal(badopt.code, 64);
    assert.ok(!badopt.err.includes('    at '), 'no stack trace');
  } finally {
    store.close();
    site.cleanup();
  }
});

test('cyr_deliver goes through lmtpd on lmtpsocket; duplicate suppression there; ctl_deliver -d/-E', async () => {
  // lmtpsocket defaults to {configdirectory}/socket/lmtp
  const { site, store } = siteWithUsers();
  const srv = await serveForTest(lmtpd, {
    config: site.conf('lmtpunix'),
    path: join(site.dir, 'conf', 'socket', 'lmtp'),
  });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await run(
        'cyr_deliver',
        ['-C', site.confPath, '-f', 'a@b.c', 'fred'],
        mail('via-lmtp', '.dot first\r\n'),
      );
      assert.equal(r.code, 0, r.err);
    }
    assert.equal(store.status(admin, 'user.fred').messages, 1, 'second copy suppressed by lmtpd');
    const text = firstMessage(store, 'user.fred');
    assert.match(text, /Received: from localhost \(unix\)/, 'went through lmtpd');
    assert.ok(text.endsWith('\r\n\r\n.dot first\r\n'), 'dot-stuffing round trip');
    const nouser = await run('cyr_deliver', ['-C', site.confPath, 'fred', 'ghost'], mail('x2'));
    assert.equal(nouser.code, 67);
    assert.equal(store.status(admin, 'user.fred').messages, 2);
    const dump = await run('cyr_ctl_deliver', ['-C', site.confPath, '-d']);
    assert.equal(dump.code, 0, dump.err);
    const uid = store.lookup('user.fred')!.uniqueId;
    assert.match(
      dump.out,
      new RegExp(`^id: <via-lmtp@example\\.org>\\s+\\tto: ${uid}\\s*\\tat: \\d+\\tuid: 1$`, 'm'),
    );
    const keep = await run('cyr_ctl_deliver', ['-C', site.confPath, '-E', '1']);
    assert.match(keep.out, /deleted 0 entries/);
    const prune = await run('cyr_ctl_deliver', ['-C', site.confPath, '-E', '0']);
    assert.match(prune.out, /deleted 2 entries/);
    assert.equal((await run('cyr_ctl_deliver', ['-C', site.confPath, '-d'])).out, '');
    assert.equal((await run('cyr_ctl_deliver', ['-C', site.confPath])).code, 64);
  } finally {
    await srv.stop();
    store.close();
    site.cleanup();
  }
});

test('cyr_deliver -l speaks LMTP on stdin/stdout', async () => {
  const { site, store } = siteWithUsers();
  try {
    const r = await run(
      'cyr_deliver',
      ['-C', site.confPath, '-l'],
      'LHLO me\r\nMAIL FROM:<a@b>\r\nRCPT TO:<bob>\r\nRCPT TO:<nobody>\r\nDATA\r\n' +
        mail('l1') +
        '.\r\nQUIT\r\n',
    );
    assert.equal(r.code, 0, r.err);
    const codes = r.out
      .split('\r\n')
      .filter((l) => /^\d{3} /.test(l))
      .map((l) => l.slice(0, 3));
    assert.deepEqual(codes, ['220', '250', '250', '250', '550', '354', '250', '221']);
    assert.equal(store.status(admin, 'user.bob').messages, 1);
  } finally {
    store.close();
    site.cleanup();
  }
});
