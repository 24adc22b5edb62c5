import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { openStore } from './index.js';
import { StoreImpl } from './store.js';
import { memoryLogger } from '../log/logger.js';
import { MailError, type Store } from './api.js';
import { admin, message, tempSite, user, type TempSite } from './test-helpers.js';

const fred = user('fred');
const bob = user('bob');

function withStore(
  extra: Record<string, string | number | boolean>,
  fn: (s: Store, site: TempSite) => Promise<void> | void,
) {
  return async () => {
    const site = tempSite(extra);
    const store = openStore(site.conf);
    try {
      await fn(store, site);
    } finally {
      store.close();
      site.cleanup();
    }
  };
}

const kind = (k: string) => (e: unknown) => e instanceof MailError && e.kind === k;

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test(
  'create, list, append, open and fetch',
  withStore({}, async (s) => {
    const inbox = s.ensureInbox('fred');
    assert.equal(inbox.name, 'user.fred');
    assert.equal(inbox.owner, 'fred');
    s.createMailbox(fred, 'user.fred.Sent', { specialUse: ['\\Sent'] });
    assert.deepEqual(
      s.list(fred).map((m) => m.name),
      ['user.fred', 'user.fred.Sent'],
    );
    assert.deepEqual(s.lookup('user.fred.Sent')?.specialUse, ['\\Sent']);
    const a1 = await s.append(fred, 'user.fred', message('first'), { flags: ['\\Flagged', '$Label1'] });
    const a2 = await s.append(
      fred,
      'user.fred',
      Readable.from([Buffer.from('Subject: second\r\n\r\nbo'), Buffer.from('dy\r\n')]),
    );
    assert.equal(a1.uid, 1);
    assert.equal(a2.uid, 2);
    assert.equal(a1.uidValidity, inbox.uidValidity);
    const v = s.open(fred, 'user.fred', { readOnly: false });
    assert.deepEqual(Array.from(v.uids()), [1, 2]);
    assert.equal(v.uidNext(), 3);
    assert.equal(v.recentCount(), 2);
    const recs = v.records([1, 2]);
    assert.deepEqual(recs[0]!.flags, ['\\Flagged', '$Label1']);
    assert.equal(recs[0]!.size, message('first').length);
    assert.equal(recs[0]!.guid, a1.guid);
    assert.equal(recs[0]!.emailId, 'M' + a1.guid.slice(0, 24));
    const c = v.cache(1);
    assert.equal(c.envelope.subject, 'first');
    assert.equal(c.envelope.from?.[0]?.mailbox, 'alice');
    assert.equal(c.body.type.toLowerCase(), 'text');
    const raw = await readAll(v.open(1));
    assert.deepEqual(raw, message('first'));
    const part = await readAll(v.open(2, 0, 8));
    assert.equal(part.toString(), 'Subject:');
    assert.ok(existsSync(v.path(2)));
    assert.match(v.path(2), /uuid\/.\/.\/[0-9a-f-]{36}\/2\.$/);
    v.close();
    // a second read-write session does not get \Recent again
    const v2 = s.open(fred, 'user.fred', { readOnly: false });
    assert.equal(v2.recentCount(), 0);
    v2.close();
    const st = s.status(fred, 'user.fred');
    assert.equal(st.messages, 2);
    assert.equal(st.unseen, 2);
    assert.equal(st.uidNext, 3);
    assert.equal(st.size, message('first').length + 'Subject: second\r\n\r\nbody\r\n'.length);
  }),
);

test(
  'bare LF becomes CRLF while spooling; size limit refuses after consuming the stream',
  withStore({ maxmessagesize: 100 }, async (s) => {
    s.ensureInbox('fred');
    const r = await s.append(
      fred,
      'user.fred',
      Readable.from([Buffer.from('Subject: x\n\nline1\r'), Buffer.from('\nline2\n')]),
    );
    const v = s.open(fred, 'user.fred', { readOnly: true });
    assert.equal(readFileSync(v.path(r.uid), 'latin1'), 'Subject: x\r\n\r\nline1\r\nline2\r\n');
    v.close();
    let consumed = 0;
    const big = Readable.from(
      (function* () {
        for (let i = 0; i < 10; i++) {
          consumed++;
          yield Buffer.alloc(50, 0x61);
        }
      })(),
    );
    await assert.rejects(s.append(fred, 'user.fred', big), kind('tooBig'));
    assert.equal(consumed, 10);
    // exactly at the limit is fine
    await s.append(fred, 'user.fred', Buffer.alloc(100, 0x62));
    await assert.rejects(s.append(fred, 'user.fred', Buffer.alloc(101, 0x62)), kind('tooBig'));
    assert.equal(s.status(fred, 'user.fred').messages, 2);
  }),
);

test(
  'flags, modseq, sync, expunge and vanished',
  withStore({ expunge_mode: 'immediate' }, async (s) => {
    s.ensureInbox('fred');
    for (let i = 0; i < 4; i++) await s.append(fred, 'user.fred', message(`m${i}`));
    const v = s.open(fred, 'user.fred', { readOnly: false });
    const h0 = v.highestModseq();
    const r = v.storeFlags([1, 2], 'add', ['\\Seen', '\\Deleted', 'Work']);
    assert.equal(r.changed.length, 2);
    assert.ok(r.changed.every((x) => x.modseq > h0));
    assert.deepEqual(r.changed[0]!.flags, ['\\Deleted', '\\Seen', 'Work']);
    // no-op store changes nothing
    assert.equal(v.storeFlags([1], 'add', ['\\Seen']).changed.length, 0);
    // CONDSTORE: unchangedSince older than the message's modseq fails
    const cs = v.storeFlags([1, 3], 'add', ['\\Answered'], { unchangedSince: h0 });
    assert.deepEqual(cs.failedModified, [1]);
    assert.deepEqual(
      cs.changed.map((x) => x.uid),
      [3],
    );
    v.storeFlags([2], 'remove', ['work']);
    assert.deepEqual(v.records([2])[0]!.flags, ['\\Deleted', '\\Seen']);
    v.storeFlags([4], 'set', ['\\Draft', 'A']);
    assert.deepEqual(v.records([4])[0]!.flags, ['\\Draft', 'A']);
    assert.equal(v.firstUnseen(), 3);
    // another session sees the changes on sync, this one does not get its own back
    const other = s.open(fred, 'user.fred', { readOnly: true });
    assert.deepEqual(v.sync(), { expunged: [], added: [], changed: [] });
    const before = v.highestModseq();
    const gone = v.expunge();
    assert.deepEqual(gone, [1, 2]);
    assert.equal(existsSync(v.path(1)), false);
    assert.throws(() => v.cache(1), kind('expunged'));
    v.applyExpunges(gone);
    assert.deepEqual(Array.from(v.uids()), [3, 4]);
    assert.deepEqual(v.vanishedSince(before), [1, 2]);
    assert.deepEqual(v.vanishedSince(before, [2, 3]), [2]);
    const sy = other.sync();
    assert.deepEqual(sy.expunged, [1, 2]);
    other.applyExpunges(sy.expunged);
    assert.deepEqual(Array.from(other.uids()), [3, 4]);
    // new arrival seen by the read-write session as recent
    await s.append(fred, 'user.fred', message('late'));
    const sy2 = v.sync();
    assert.deepEqual(sy2.added, [5]);
    assert.equal(v.recentCount(), 5 - 2);
    assert.equal(s.status(fred, 'user.fred').messages, 3);
    assert.throws(() => other.storeFlags([3], 'add', ['\\Seen']), kind('perm'));
    v.close();
    other.close();
  }),
);

test(
  'expunge_mode delayed keeps the file until cyr_expire',
  withStore({ expunge_mode: 'delayed' }, async (s) => {
    s.ensureInbox('fred');
    await s.append(fred, 'user.fred', message('a'), { flags: ['\\Deleted'] });
    const v = s.open(fred, 'user.fred', { readOnly: false });
    const p = v.path(1);
    assert.deepEqual(v.expunge(), [1]);
    assert.equal(existsSync(p), true);
    v.close();
  }),
);

test(
  'copy and move: hard links, flags kept, uids assigned in the destination',
  withStore({}, async (s) => {
    s.ensureInbox('fred');
    s.createMailbox(fred, 'user.fred.Archive');
    for (let i = 0; i < 3; i++)
      await s.append(fred, 'user.fred', message(`c${i}`), { flags: i === 0 ? ['\\Seen'] : [] });
    const v = s.open(fred, 'user.fred', { readOnly: false });
    const c = await v.copy([1, 2], 'user.fred.Archive');
    assert.deepEqual(c.src, [1, 2]);
    assert.deepEqual(c.dst, [1, 2]);
    const dst = s.open(fred, 'user.fred.Archive', { readOnly: true });
    assert.equal(statSync(dst.path(1)).ino, statSync(v.path(1)).ino);
    assert.deepEqual(dst.records([1])[0]!.flags, ['\\Seen']);
    assert.equal(dst.cache(2).envelope.subject, 'c1');
    const m = await v.move([3], 'user.fred.Archive');
    assert.deepEqual(m.dst, [3]);
    const sy = v.sync();
    assert.deepEqual(sy.expunged, [3]);
    assert.deepEqual(dst.sync().added, [3]);
    await assert.rejects(v.copy([1], 'user.fred.Nope'), kind('notFound'));
    v.close();
    dst.close();
  }),
);

test(
  'search over cached fields and RFC 5256 sort',
  withStore({}, async (s) => {
    s.ensureInbox('fred');
    const mk = (from: string, subject: string, date: string, body: string) =>
      Buffer.from(
        `From: ${from}\r\nTo: x@y\r\nSubject: ${subject}\r\nDate: ${date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
      );
    await s.append(
      fred,
      'user.fred',
      mk('Zed <zed@a.org>', 'Re: Banana', 'Tue, 3 Nov 2026 10:00:00 +0000', 'Yellow FRUIT'),
    );
    await s.append(
      fred,
      'user.fred',
      mk('amy@b.org', 'apple', 'Mon, 2 Nov 2026 10:00:00 +0000', 'red fruit'),
      { flags: ['\\Flagged'] },
    );
    await s.append(
      fred,
      'user.fred',
      mk('Bob <bob@c.org>', 'Cherry', 'Wed, 4 Nov 2026 10:00:00 +0000', 'dark Straße'),
      {
        internalDate: new Date(2020, 0, 1),
      },
    );
    const v = s.open(fred, 'user.fred', { readOnly: false });
    assert.deepEqual(v.search({ op: 'all' }), [1, 2, 3]);
    assert.deepEqual(v.search({ op: 'body', value: 'FrUiT' }), [1, 2]);
    assert.deepEqual(v.search({ op: 'text', value: 'STRASSE' }), []);
    assert.deepEqual(v.search({ op: 'body', value: 'STRAßE' }), [3]);
    assert.deepEqual(v.search({ op: 'header', name: 'subject', value: 'BANANA' }), [1]);
    assert.deepEqual(v.search({ op: 'header', name: 'from', value: 'amy' }), [2]);
    assert.deepEqual(v.search({ op: 'header', name: 'cc', value: '' }), []);
    assert.deepEqual(v.search({ op: 'flag', flag: '\\Flagged' }), [2]);
    assert.deepEqual(v.search({ op: 'not', key: { op: 'flag', flag: '\\Flagged' } }), [1, 3]);
    assert.deepEqual(
      v.search({ op: 'or', a: { op: 'uid', uids: [1] }, b: { op: 'flag', flag: '\\Flagged' } }),
      [1, 2],
    );
    const sizes = v.records([1, 2, 3]).map((r) => r.size);
    assert.deepEqual(v.search({ op: 'size', rel: 'larger', octets: Math.min(...sizes) }).length, 2);
    assert.deepEqual(v.search({ op: 'size', rel: 'smaller', octets: Math.min(...sizes) }), []);
    assert.deepEqual(v.search({ op: 'date', field: 'internal', rel: 'before', day: '2021-01-01' }), [3]);
    assert.deepEqual(v.search({ op: 'date', field: 'sent', rel: 'on', day: '2026-11-02' }), [2]);
    assert.deepEqual(v.search({ op: 'recent' }), [1, 2, 3]);
    assert.deepEqual(v.search({ op: 'new' }), [1, 2, 3]);
    assert.deepEqual(v.search({ op: 'age', rel: 'older', seconds: 86400 }), [3]);
    assert.deepEqual(v.sort([{ key: 'subject', reverse: false }], { op: 'all' }), [2, 1, 3]);
    assert.deepEqual(v.sort([{ key: 'from', reverse: false }], { op: 'all' }), [2, 3, 1]);
    assert.deepEqual(v.sort([{ key: 'displayfrom', reverse: false }], { op: 'all' }), [2, 3, 1]);
    assert.deepEqual(v.sort([{ key: 'date', reverse: true }], { op: 'all' }), [3, 1, 2]);
    assert.deepEqual(v.sort([{ key: 'arrival', reverse: false }], { op: 'body', value: 'fruit' }), [1, 2]);
    v.close();
  }),
);

test(
  'rights: no l/r reads as notFound, l only is perm; ACL changes need a',
  withStore({}, async (s) => {
    s.ensureInbox('fred');
    s.ensureInbox('bob');
    await assert.rejects(s.append(bob, 'user.fred', message('x')), kind('notFound'));
    assert.throws(() => s.open(bob, 'user.fred', { readOnly: true }), kind('notFound'));
    assert.throws(() => s.rights(bob, 'user.fred'), kind('notFound'));
    assert.throws(() => s.setAcl(bob, 'user.fred', 'bob', 'lrs'), kind('notFound'));
    s.setAcl(fred, 'user.fred', 'bob', 'l');
    assert.equal(s.rights(bob, 'user.fred'), 'l');
    assert.throws(() => s.status(bob, 'user.fred'), kind('perm'));
    assert.deepEqual(
      s.list(bob, 'user.fred').map((m) => m.name),
      ['user.fred'],
    );
    s.setAcl(fred, 'user.fred', 'bob', 'lrsi');
    await s.append(bob, 'user.fred', message('from bob'), { flags: ['\\Seen', '\\Deleted'] });
    const vb = s.open(bob, 'user.fred', { readOnly: false });
    // bob's \Seen is his own; \Deleted needs t
    assert.deepEqual(vb.records([1])[0]!.flags, ['\\Seen']);
    assert.throws(() => vb.storeFlags([1], 'add', ['\\Deleted']), kind('perm'));
    vb.close();
    const vf = s.open(fred, 'user.fred', { readOnly: false });
    assert.deepEqual(vf.records([1])[0]!.flags, []);
    vf.close();
    assert.equal(s.status(bob, 'user.fred').unseen, 0);
    assert.equal(s.status(fred, 'user.fred').unseen, 1);
    assert.throws(() => s.createMailbox(bob, 'user.fred.x'), kind('perm'));
    assert.throws(() => s.createMailbox(fred, 'shared'), kind('perm'));
    assert.equal(s.rights(admin, 'user.fred'), 'lrswipkxtecdan');
    // shared top level gets defaultacl, intermediates are created
    s.createMailbox(admin, 'shared.news.local');
    assert.equal(s.lookup('shared')?.acl, 'anyone\tlrs\t');
    assert.equal(s.rights(bob, 'shared.news.local'), 'lrs');
    assert.throws(() => s.setQuota(fred, 'user.fred', { storage: 1 }), kind('perm'));
  }),
);

test(
  'quota: exactly at the limit is accepted, one over refused; messages too; ignoreQuota',
  withStore({}, async (s) => {
    s.ensureInbox('fred');
    s.createMailbox(fred, 'user.fred.Sub');
    s.setQuota(admin, 'user.fred', { storage: 1 });
    assert.deepEqual(s.quotaRoots('user.fred.Sub'), ['user.fred']);
    await s.append(fred, 'user.fred', Buffer.alloc(600, 0x61));
    await s.append(fred, 'user.fred.Sub', Buffer.alloc(424, 0x61));
    assert.deepEqual(s.getQuota('user.fred'), {
      root: 'user.fred',
      storageLimit: 1,
      storageUsed: 1,
      messageLimit: null,
      messageUsed: 2,
    });
    await assert.rejects(s.append(fred, 'user.fred', Buffer.alloc(1, 0x61)), kind('overQuota'));
    await s.append(fred, 'user.fred', Buffer.alloc(1, 0x61), { ignoreQuota: true });
    s.setQuota(admin, 'user.fred', { storage: null, message: 4 });
    await s.append(fred, 'user.fred', Buffer.alloc(1, 0x61));
    await assert.rejects(s.append(fred, 'user.fred', Buffer.alloc(1, 0x61)), kind('overQuota'));
    const v = s.open(fred, 'user.fred', { readOnly: false });
    await assert.rejects(v.copy([1], 'user.fred.Sub'), kind('overQuota'));
    v.storeFlags(v.uids(), 'add', ['\\Deleted']);
    v.expunge();
    v.close();
    assert.equal(s.getQuota('user.fred')?.messageUsed, 1);
    assert.equal(s.getQuota('user.nobody'), undefined);
  }),
);

test(
  'autocreate: quota, folders with special-use, subscriptions',
  withStore(
    {
      autocreate_quota: 1000,
      autocreate_quota_messages: 50,
      autocreate_inbox_folders: 'Sent | Trash | Work/Projects',
      autocreate_subscribe_folders: 'Sent',
      'xlist-sent': 'Sent',
      'xlist-trash': 'Trash',
    },
    (s) => {
      s.ensureInbox('fred');
      assert.deepEqual(s.getQuota('user.fred'), {
        root: 'user.fred',
        storageLimit: 1000,
        storageUsed: 0,
        messageLimit: 50,
        messageUsed: 0,
      });
      assert.deepEqual(
        s.list(fred).map((m) => m.name),
        ['user.fred', 'user.fred.Sent', 'user.fred.Trash', 'user.fred.Work', 'user.fred.Work.Projects'],
      );
      assert.deepEqual(s.lookup('user.fred.Trash')?.specialUse, ['\\Trash']);
      assert.deepEqual(s.subscriptions('fred'), ['user.fred.Sent']);
      s.subscribe('fred', 'user.fred.Trash');
      s.unsubscribe('fred', 'user.fred.Sent');
      assert.deepEqual(s.subscriptions('fred'), ['user.fred.Trash']);
      assert.throws(() => s.subscribe('fred', 'user.fred.Nope'), kind('notFound'));
      // idempotent
      assert.equal(s.ensureInbox('fred').name, 'user.fred');
    },
  ),
);

test(
  'delete: delayed renames under DELETED, immediate removes files',
  withStore({ delete_mode: 'delayed' }, async (s) => {
    s.ensureInbox('fred');
    s.createMailbox(fred, 'user.fred.Old');
    await s.append(fred, 'user.fred.Old', message('keep'));
    const id = s.lookup('user.fred.Old')!.uniqueId;
    s.deleteMailbox(fred, 'user.fred.Old');
    assert.equal(s.lookup('user.fred.Old'), undefined);
    const del = s.list(admin, 'DELETED.');
    assert.equal(del.length, 1);
    assert.match(del[0]!.name, /^DELETED\.user\.fred\.Old\.[0-9A-F]+$/);
    assert.equal(del[0]!.uniqueId, id);
    assert.deepEqual(
      s.list(fred).map((m) => m.name),
      ['user.fred'],
    );
    assert.equal(s.status(admin, del[0]!.name).messages, 1);
    assert.throws(() => s.deleteMailbox(fred, 'user.fred'), kind('perm'));
  }),
);

test(
  'delete immediate and rename (subtree, INBOX, whole user)',
  withStore({ delete_mode: 'immediate' }, async (s) => {
    s.ensureInbox('fred');
    s.createMailbox(fred, 'user.fred.A');
    s.createMailbox(fred, 'user.fred.A.B');
    await s.append(fred, 'user.fred.A.B', message('deep'));
    await s.append(fred, 'user.fred', message('in inbox'));
    s.renameMailbox(fred, 'user.fred.A', 'user.fred.C');
    assert.deepEqual(
      s.list(fred).map((m) => m.name),
      ['user.fred', 'user.fred.C', 'user.fred.C.B'],
    );
    assert.equal(s.status(fred, 'user.fred.C.B').messages, 1);
    assert.throws(() => s.renameMailbox(fred, 'user.fred.C', 'user.fred.C.B.D'), kind('badName'));
    // INBOX rename moves the messages, INBOX stays
    s.renameMailbox(fred, 'user.fred', 'user.fred.OldInbox');
    assert.equal(s.status(fred, 'user.fred').messages, 0);
    assert.equal(s.status(fred, 'user.fred.OldInbox').messages, 1);
    // admin renames the whole user
    s.renameMailbox(admin, 'user.fred', 'user.frida');
    assert.deepEqual(
      s.list(admin, 'user.fr').map((m) => m.name),
      ['user.frida', 'user.frida.C', 'user.frida.C.B', 'user.frida.OldInbox'],
    );
    const frida = user('frida');
    const v = s.open(frida, 'user.frida.C.B', { readOnly: true });
    assert.equal(v.cache(1).envelope.subject, 'deep');
    const dir = v.path(1);
    v.close();
    s.deleteMailbox(frida, 'user.frida.C.B');
    assert.equal(existsSync(dir), false);
    assert.equal(s.lookup('user.frida.C.B'), undefined);
  }),
);

test(
  'annotations: shared and private, server entries admin-only',
  withStore({}, (s) => {
    s.ensureInbox('fred');
    s.setAnnotation(fred, 'user.fred', '/comment', true, 'shared note');
    s.setAnnotation(fred, 'user.fred', '/comment', false, 'my note');
    assert.equal(s.getAnnotation(fred, 'user.fred', '/comment', true), 'shared note');
    assert.equal(s.getAnnotation(fred, 'user.fred', '/comment', false), 'my note');
    assert.equal(s.listAnnotations(fred, 'user.fred', '/').length, 2);
    assert.throws(() => s.setAnnotation(fred, '', '/motd', true, 'x'), kind('perm'));
    s.setAnnotation(admin, '', '/motd', true, 'hello');
    assert.equal(s.getAnnotation(bob, '', '/motd', true), 'hello');
    s.setAnnotation(fred, 'user.fred', '/comment', true, null);
    assert.equal(s.getAnnotation(fred, 'user.fred', '/comment', true), undefined);
  }),
);

test('idle index databases are closed beyond the cap; ones with open views stay usable', async () => {
  const site = tempSite();
  const { StoreImpl } = await import('./store.js');
  const s = new StoreImpl(site.conf, { maxOpenIndexes: 2 });
  try {
    const users = ['u1', 'u2', 'u3', 'u4'];
    for (const u of users) s.ensureInbox(u);
    const v = s.open(user('u1'), 'user.u1', { readOnly: false });
    for (const u of users) await s.append(admin, `user.${u}`, message(`to ${u}`));
    assert.ok(s.openIndexes <= 3, `${s.openIndexes} open`);
    assert.deepEqual(v.sync().added, [1]);
    assert.equal(v.cache(1).envelope.subject, 'to u1');
    for (const u of users) assert.equal(s.status(admin, `user.${u}`).messages, 1);
    v.close();
  } finally {
    s.close();
    site.cleanup();
  }
});

test(
  'virtual domains: a domain user gets example.com!user.fred with its own index under domain/',
  withStore({ virtdomains: 'userid', defaultdomain: 'main.org' }, async (s, site) => {
    const info = s.ensureInbox('fred@example.com');
    assert.equal(info.name, 'example.com!user.fred');
    assert.equal(info.owner, 'fred@example.com');
    assert.equal(s.ensureInbox('fred@main.org').name, 'user.fred');
    const dfred = user('fred@example.com');
    s.createMailbox(dfred, 'example.com!user.fred.Sent');
    await s.append(dfred, 'example.com!user.fred.Sent', message('domain mail'));
    assert.equal(s.status(dfred, 'example.com!user.fred.Sent').messages, 1);
    assert.throws(() => s.status(user('fred'), 'example.com!user.fred.Sent'), kind('notFound'));
    assert.ok(existsSync(`${site.conf.configDirectory}/domain/e/example.com/user/f/fred.index.db`));
    assert.deepEqual(
      s.list(dfred, 'example.com!').map((m) => m.name),
      ['example.com!user.fred', 'example.com!user.fred.Sent'],
    );
  }),
);

test(
  'special-use: set, replace, refuse unknown attributes; only with the a right',
  withStore({ specialuse_extra: '\\Receipts' }, (s) => {
    s.ensureInbox('fred');
    s.createMailbox(fred, 'user.fred.Stuff');
    s.setSpecialUse(fred, 'user.fred.Stuff', ['\\junk', '\\Receipts']);
    assert.deepEqual(s.lookup('user.fred.Stuff')?.specialUse, ['\\Junk', '\\Receipts']);
    assert.throws(() => s.setSpecialUse(fred, 'user.fred.Stuff', ['\\Bogus']), kind('badName'));
    assert.throws(() => s.createMailbox(fred, 'user.fred.X', { specialUse: ['\\Bogus'] }), kind('badName'));
    s.setAcl(fred, 'user.fred.Stuff', 'bob', 'lr');
    assert.throws(() => s.setSpecialUse(bob, 'user.fred.Stuff', []), kind('perm'));
    s.setSpecialUse(fred, 'user.fred.Stuff', []);
    assert.deepEqual(s.lookup('user.fred.Stuff')?.specialUse, []);
  }),
);

test(
  'caches() returns what cache() does, for dense and sparse uid sets, without expunged uids',
  withStore({ expunge_mode: 'immediate' }, async (s) => {
    s.ensureInbox('fred');
    for (let i = 1; i <= 30; i++) await s.append(fred, 'user.fred', message(`m${i}`));
    const v0 = s.open(fred, 'user.fred', { readOnly: false });
    v0.storeFlags([5], 'add', ['\\Deleted']);
    assert.deepEqual(v0.expunge(), [5]);
    v0.close();
    const v = s.open(fred, 'user.fred', { readOnly: true });
    assert.ok(v.caches, 'the store implements caches()');
    const all = v.caches!([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual([...all.keys()], [1, 2, 3, 4, 6, 7, 8, 9, 10]);
    for (const [uid, c] of all) assert.deepEqual(c, v.cache(uid));
    assert.equal(all.get(7)!.envelope.subject, 'm7');
    const sparse = v.caches!([30, 2, 17]);
    assert.deepEqual(
      [...sparse.keys()].sort((a, b) => a - b),
      [2, 17, 30],
    );
    assert.equal(sparse.get(17)!.envelope.subject, 'm17');
    assert.equal(v.caches!([]).size, 0);
    v.close();
  }),
);

test(
  'concurrent appends to one mailbox (group commit): each message under its own uid, quota per message',
  withStore({}, async (s) => {
    s.ensureInbox('fred');
    const impl = s as unknown as { commitNew: (...a: unknown[]) => number[] };
    const batches: number[] = [];
    const orig = impl.commitNew.bind(s);
    impl.commitNew = (...a: unknown[]) => {
      batches.push((a[2] as unknown[]).length);
      return orig(...a);
    };
    const n = 8;
    const res = await Promise.all(
      Array.from({ length: n }, (_, i) => s.append(fred, 'user.fred', message(`c${i}`, `body ${i}\r\n`))),
    );
    assert.deepEqual(
      res.map((r) => r.uid).sort((a, b) => a - b),
      Array.from({ length: n }, (_, i) => i + 1),
    );
    assert.equal(
      batches.reduce((a, b) => a + b, 0),
      n,
    );
    const v = s.open(fred, 'user.fred', { readOnly: true });
    res.forEach((r, i) => {
      assert.match(readFileSync(v.path(r.uid), 'latin1'), new RegExp(`Subject: c${i}\r\n[^]*body ${i}\r\n$`));
      assert.equal(v.cache(r.uid).envelope.subject, `c${i}`);
    });
    assert.equal(s.status(fred, 'user.fred').messages, n);
    v.close();
    // 3 more fit under the limit: a batch over the limit is retried message by message
    s.setQuota(admin, 'user.fred', { message: n + 3 });
    const more = await Promise.allSettled(
      Array.from({ length: 5 }, (_, i) => s.append(fred, 'user.fred', message(`q${i}`))),
    );
    assert.equal(more.filter((r) => r.status === 'fulfilled').length, 3);
    for (const r of more) if (r.status === 'rejected') assert.ok(kind('overQuota')(r.reason));
    assert.equal(s.status(fred, 'user.fred').messages, n + 3);
  }),
);

test('ENVELOPE and BODYSTRUCTURE are kept as IMAP text; rows from before those columns are rendered on read', async () => {
  const { default: Database } = await import('better-sqlite3');
  const { envelopeText, bodyText } = await import('../mail/imap-text.js');
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const site = tempSite({});
  const multipart =
    'From: =?utf-8?q?J=C3=B6rg?= <joerg@example.org>\r\nTo: a@example.org, "B \\"q\\"" <b@example.org>\r\n' +
    'Subject: caf\u00e9 \\ "x"\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n' +
    '--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhi\r\n--XX\r\nContent-Type: message/rfc822\r\n\r\n' +
    'Subject: inner\r\n\r\ninner body\r\n--XX--\r\n';
  try {
    let s = openStore(site.conf);
    s.ensureInbox('fred');
    await s.append(fred, 'user.fred', message('plain'));
    await s.append(fred, 'user.fred', Buffer.from(multipart, 'utf8'));
    const expect = (v: ReturnType<Store['open']>) =>
      [1, 2].map((u) => {
        const c = v.cache(u);
        return [envelopeText(c.envelope), bodyText(c.body, true)];
      });
    let v = s.open(fred, 'user.fred', { readOnly: true });
    const want = expect(v);
    assert.match(want[1]![0]!, /\{\d+\}\r\ncaf/); // non-ASCII subject: a literal in the ASCII form
    assert.match(want[1]![1]!, /"MESSAGE" "RFC822"/);
    const texts = (vv: typeof v) =>
      [...vv.caches!([1, 2], { textOnly: true }).values()].map((c) => [c.envelopeImap, c.bodyStructureImap]);
    assert.deepEqual(texts(v), want);
    // text-only entries still decode the JSON when touched
    assert.equal(v.caches!([2], { textOnly: true }).get(2)!.envelope.subject, 'caf\u00e9 \\ "x"');
    v.close();
    s.close();
    // an index written before the text columns existed: drop them, reopen (migration adds them back)
    const dir = join(site.dir, 'conf', 'user', 'f');
    const file = join(
      dir,
      readdirSync(dir).find((f) => f.endsWith('.index.db'))!,
    );
    const raw = new Database(file);
    raw.exec(
      'ALTER TABLE msgcache DROP COLUMN envelope_imap; ALTER TABLE msgcache DROP COLUMN bodystructure_imap;',
    );
    raw.close();
    s = openStore(site.conf);
    v = s.open(fred, 'user.fred', { readOnly: true });
    assert.deepEqual(texts(v), want);
    assert.deepEqual(
      [1, 2].map((u) => [v.cache(u).envelopeImap, v.cache(u).bodyStructureImap]),
      want,
    );
    v.close();
    s.close();
  } finally {
    site.cleanup();
  }
});

test('a long body keeps 64 KiB of search text in the index; SEARCH finds words past it in the file', async () => {
  const { default: Database } = await import('better-sqlite3');
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const site = tempSite({});
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    const filler = 'lorem ipsum dolor sit amet\r\n'.repeat(4000); // ~112 KB of text
    await s.append(fred, 'user.fred', message('long', `${filler}Zanzibar at the very end\r\n`));
    await s.append(fred, 'user.fred', message('short', 'zanzibar early\r\n'));
    await s.append(
      fred,
      'user.fred',
      message(
        'two parts',
        `--b\r\nContent-Type: text/plain\r\n\r\n${filler}--b\r\nContent-Type: text/html\r\n\r\n<p>Quux&amp;co</p>\r\n--b--\r\n`,
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n',
      ),
    );
    const v = s.open(fred, 'user.fred', { readOnly: true });
    assert.deepEqual(v.search({ op: 'body', value: 'ZANZIBAR' }), [1, 2]);
    assert.deepEqual(v.search({ op: 'text', value: 'very end' }), [1]);
    assert.deepEqual(v.search({ op: 'body', value: 'quux&co' }), [3]);
    assert.deepEqual(v.search({ op: 'body', value: 'not there anywhere' }), []);
    assert.deepEqual(
      v.search({
        op: 'and',
        keys: [
          { op: 'body', value: 'lorem' },
          { op: 'body', value: 'zanzibar' },
        ],
      }),
      [1],
    );
    v.close();
    s.close();
    const dir = join(site.dir, 'conf', 'user', 'f');
    const raw = new Database(
      join(
        dir,
        readdirSync(dir).find((f) => f.endsWith('.index.db'))!,
      ),
      {
        readonly: true,
      },
    );
    const rows = raw
      .prepare('SELECT uid, length(search_body) AS n, truncated FROM bodytext ORDER BY uid')
      .all();
    raw.close();
    assert.deepEqual(
      rows.map((r) => [(r as { uid: number }).uid, (r as { truncated: number }).truncated]),
      [
        [1, 1],
        [2, 0],
        [3, 1],
      ],
    );
    for (const r of rows) assert.ok((r as { n: number }).n <= 64 * 1024);
  } finally {
    site.cleanup();
  }
});

test('stage + appendStaged: hard links on the staged partition, a copy on another; flags by rights', async () => {
  const { statSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const other = mkdtempSync(join(tmpdir(), 'cyrus-part-'));
  const site = tempSite({ 'partition-other': other });
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    s.ensureInbox('bob');
    s.createMailbox(admin, 'user.bob.far', { partition: 'other' });
    const staged = await s.stage(message('staged once'));
    assert.equal(staged.guid.length > 0, true);
    const a = await s.appendStaged(admin, 'user.fred', staged, { flags: ['\\Flagged'] });
    const b = await s.appendStaged(admin, 'user.bob', staged);
    const c = await s.appendStaged(admin, 'user.bob.far', staged);
    assert.equal(a.guid, staged.guid);
    assert.equal(c.guid, staged.guid);
    await assert.rejects(s.appendStaged(bob, 'user.fred', staged), kind('notFound'));
    staged.release();
    staged.release();
    await assert.rejects(s.appendStaged(admin, 'user.fred', staged), /not a live staged message/);
    const path = (box: string, uid: number): string => {
      const v = s.open(admin, box, { readOnly: true });
      try {
        return v.path(uid);
      } finally {
        v.close();
      }
    };
    const [pa, pb, pc] = [path('user.fred', a.uid), path('user.bob', b.uid), path('user.bob.far', c.uid)];
    assert.equal(statSync(pa).ino, statSync(pb).ino);
    assert.equal(statSync(pa).nlink, 2);
    assert.notEqual(statSync(pc).ino, statSync(pa).ino);
    assert.ok(pc.startsWith(other));
    assert.equal(readFileSync(pc, 'latin1'), readFileSync(pa, 'latin1'));
    const v = s.open(fred, 'user.fred', { readOnly: true });
    assert.deepEqual(v.records([a.uid])[0]!.flags, ['\\Flagged']);
    v.close();
    s.close();
  } finally {
    site.cleanup();
    rmSync(other, { recursive: true, force: true });
  }
});

test('an append is pending until its fsyncs are done; the next append takes it off the list', async () => {
  const site = tempSite({});
  const store = openStore(site.conf) as StoreImpl;
  try {
    store.ensureInbox('fred');
    const e = store.entry('user.fred')!;
    const pending = (): string => store.mailboxRow(store.indexFor(e), e).pending;
    await store.append(fred, 'user.fred', message('one'));
    // the last append of this process stays listed until its next one
    assert.equal(pending(), '1');
    await store.append(fred, 'user.fred', message('two'));
    assert.equal(pending(), '2');
    // a staged message was fsynced before its commit: never pending
    const staged = await store.stage(message('three'));
    await store.appendStaged(fred, 'user.fred', staged);
    staged.release();
    assert.equal(pending(), '');
    await store.append(fred, 'user.fred', message('four'));
    assert.equal(pending(), '4');
    // a mailbox that went quiet is cleared without another append
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal(pending(), '');
    await store.append(fred, 'user.fred', message('five'));
  } finally {
    store.close();
    // closing clears what is fsynced
    const again = openStore(site.conf) as StoreImpl;
    const e = again.entry('user.fred')!;
    assert.equal(again.mailboxRow(again.indexFor(e), e).pending, '');
    again.close();
    site.cleanup();
  }
});

test('opening an index settles pending uids: a lost or different file expunges its row, a good one stays', async () => {
  const site = tempSite({});
  let store = openStore(site.conf) as StoreImpl;
  const log = memoryLogger('store');
  try {
    store.ensureInbox('fred');
    for (const s of ['good', 'gone', 'torn', 'zeroed']) await store.append(fred, 'user.fred', message(s));
    const e = store.entry('user.fred')!;
    const db = store.indexFor(e);
    const id = store.mailboxRow(db, e).id;
    // what a power cut can leave: rows committed, files missing, short, or the right size
    // but never written (zeros)
    db.write(() => db.s.setPending.run('1 2 3 4', id));
    // a crashed process never takes its fsynced uids off the list
    db.confirmed.clear();
    rmSync(store.messagePath(e, 2));
    truncateSync(store.messagePath(e, 3), 10);
    const p4 = store.messagePath(e, 4);
    writeFileSync(p4, Buffer.alloc(statSync(p4).size));
    store.close();

    store = new StoreImpl(site.conf, { log });
    const view = store.open(fred, 'user.fred', { readOnly: true });
    try {
      assert.deepEqual(Array.from(view.uids()), [1]);
    } finally {
      view.close();
    }
    assert.equal(store.status(fred, 'user.fred').messages, 1);
    assert.equal(store.mailboxRow(store.indexFor(e), e).pending, '');
    assert.ok(
      log.lines.some((l) => /expunged uid 2,3,4: message file lost/.test(l)),
      log.lines.join('\n'),
    );
    // the next delivery gets a fresh uid
    const r = await store.append(fred, 'user.fred', message('after'));
    assert.equal(r.uid, 5);
  } finally {
    store.close();
    site.cleanup();
  }
});
