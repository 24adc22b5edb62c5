import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/index.js';
import { StoreImpl } from '../store/store.js';
import { tempSite, admin, user } from '../store/test-helpers.js';
import type { ToolIO } from '../store/cli.js';
import { main as quota } from './quota.js';
import { main as reconstruct } from './reconstruct.js';
import { main as ipurge } from './ipurge.js';
import { main as expire } from './expire.js';
import { DuplicateDb } from '../db/duplicate.js';
import { existsSync, unlinkSync } from 'node:fs';

function io(stdin = ''): ToolIO & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    stdin: async () => stdin,
  };
  return o;
}

test('cyr_quota reports like Cyrus and -f repairs drifted usage', async () => {
  const site = tempSite();
  try {
    const s = openStore(site.conf) as StoreImpl;
    s.ensureInbox('fred');
    s.setQuota(admin, 'user.fred', { storage: 100, message: 10 });
    await s.append(admin, 'user.fred', Buffer.alloc(2048, 0x61));
    // simulate drift of the counters
    const e = s.mboxlist.get('user.fred')!;
    const db = s.indexFor(e);
    db.s.setCounters.run(7, 99999, db.s.mailboxById.get(e.uniqueId)!.id);
    s.close();
    const r = io();
    assert.equal(await quota(['-C', site.confPath], r), 0);
    assert.match(r.out, /^ +Quota +% Used +Used Resource Root\n/);
    assert.match(r.out, /\n +100 +97 +97 STORAGE +user\.fred\n +10 +70 +7 MESSAGE +user\.fred\n/);
    const f = io();
    assert.equal(await quota(['-C', site.confPath, '-f'], f), 0);
    assert.match(f.out, /user\.fred: usage was 7 messages\/99999 bytes, now 1\/2048/);
    assert.match(f.out, /\n +100 +2 +2 STORAGE +user\.fred\n +10 +10 +1 MESSAGE +user\.fred\n/);
  } finally {
    site.cleanup();
  }
});

test('cyr_reconstruct finds a missing file and adopts an orphan with -f', async () => {
  const site = tempSite();
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    await s.append(admin, 'user.fred', Buffer.from('Subject: one\r\n\r\n1\r\n'));
    await s.append(admin, 'user.fred', Buffer.from('Subject: two\r\n\r\n2\r\n'));
    const v = s.open(admin, 'user.fred', { readOnly: true });
    unlinkSync(v.path(1));
    v.close();
    s.close();
    const r = io();
    assert.equal(await reconstruct(['-C', site.confPath, 'user.fred'], r), 0);
    assert.match(r.out, /^user\.fred\n {2}user\.fred uid 1: message file missing, expunged\n/);
    const s2 = openStore(site.conf);
    const v2 = s2.open(admin, 'user.fred', { readOnly: true });
    assert.deepEqual(Array.from(v2.uids()), [2]);
    v2.close();
    s2.close();
    assert.equal(await reconstruct(['-C', site.confPath, 'user.nobody'], io()), 66);
  } finally {
    site.cleanup();
  }
});

test('cyr_ipurge deletes old or big messages; shared only unless -f', async () => {
  const site = tempSite({ expunge_mode: 'immediate' });
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    s.createMailbox(admin, 'shared.list');
    const old = new Date(Date.now() - 40 * 86400_000);
    await s.append(admin, 'shared.list', Buffer.from('Subject: old\r\n\r\nx\r\n'), { internalDate: old });
    await s.append(admin, 'shared.list', Buffer.from('Subject: new\r\n\r\nx\r\n'));
    await s.append(admin, 'user.fred', Buffer.from('Subject: old\r\n\r\nx\r\n'), { internalDate: old });
    await s.append(admin, 'user.fred', Buffer.alloc(5000, 0x61));
    s.close();
    const v = io();
    assert.equal(await ipurge(['-C', site.confPath, '-X', '-d', '30', '-v'], v), 0);
    assert.match(v.out, /Working on shared\.list\.\.\.\nDeleted 1 messages/);
    assert.equal(await ipurge(['-C', site.confPath, '-f', '-k', '4', 'user.*'], io()), 0);
    const s2 = openStore(site.conf);
    assert.equal(s2.status(admin, 'shared.list').messages, 1);
    assert.equal(s2.status(admin, 'user.fred').messages, 1);
    s2.close();
    assert.equal(await ipurge(['-C', site.confPath], io()), 64);
  } finally {
    site.cleanup();
  }
});

test('cyr_expire: -E prunes deliver.db, -X removes expunged files, -D purges deleted mailboxes', async () => {
  const site = tempSite({ expunge_mode: 'delayed', delete_mode: 'delayed' });
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    s.createMailbox(user('fred'), 'user.fred.Old');
    await s.append(admin, 'user.fred', Buffer.from('Subject: x\r\n\r\nx\r\n'), { flags: ['\\Deleted'] });
    const v = s.open(admin, 'user.fred', { readOnly: false });
    const path = v.path(1);
    v.expunge();
    v.close();
    s.deleteMailbox(user('fred'), 'user.fred.Old');
    s.close();
    const dup = DuplicateDb.open(site.conf);
    dup.mark('<old@x>', 'user.fred', 1, Math.floor(Date.now() / 1000) - 10 * 86400);
    dup.mark('<new@x>', 'user.fred', 2);
    dup.close();
    assert.equal(existsSync(path), true);
    const o = io();
    assert.equal(await expire(['-C', site.confPath, '-E', '3', '-X', '0', '-D', '0', '-v'], o), 0);
    assert.match(o.out, /expired 1 duplicate delivery records/);
    assert.match(o.out, /removed 1 expunged messages/);
    assert.match(o.out, /removed deleted mailbox DELETED\.user\.fred\.Old\.[0-9A-F]+/);
    assert.equal(existsSync(path), false);
    const d2 = DuplicateDb.open(site.conf);
    assert.equal(d2.check('<old@x>', 'user.fred'), undefined);
    assert.ok(d2.check('<new@x>', 'user.fred'));
    d2.close();
    assert.equal(await expire(['-C', site.confPath], io()), 64);
    assert.equal(await expire(['-C', site.confPath, '-X', 'soon'], io()), 64);
  } finally {
    site.cleanup();
  }
});
