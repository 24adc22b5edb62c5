/** Multi-process behaviour: concurrent writers, kill -9 during appends, cross-process watch. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openStore } from './index.js';
import { StoreImpl } from './store.js';
import { reconstructMailbox } from './reconstruct.js';
import { tempSite, user } from './test-helpers.js';

const CHILD = fileURLToPath(new URL('./test-child.js', import.meta.url));
const fred = user('fred');

type Report = { uid?: number; n?: number; at?: number; done?: boolean };

function child(
  args: string[],
  onMsg: (m: Report) => void,
): { proc: ChildProcess; exited: Promise<number | null> } {
  const proc = fork(CHILD, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  proc.on('message', (m) => onMsg(m as Report));
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return { proc, exited };
}

test('two processes appending to one mailbox at once: every message present, uids unique', async () => {
  const site = tempSite();
  const store = openStore(site.conf);
  try {
    store.ensureInbox('fred');
    const uids: number[] = [];
    const a = child([site.confPath, 'append', 'user.fred', '30', 'A'], (m) => m.uid && uids.push(m.uid));
    const b = child([site.confPath, 'append', 'user.fred', '30', 'B'], (m) => m.uid && uids.push(m.uid));
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.equal(uids.length, 60);
    assert.deepEqual(
      [...uids].sort((x, y) => x - y),
      Array.from({ length: 60 }, (_, i) => i + 1),
    );
    const v = store.open(fred, 'user.fred', { readOnly: true });
    assert.equal(v.uids().length, 60);
    const subjects = new Set<string>();
    for (const u of v.uids()) {
      const subj = v.cache(u).envelope.subject!;
      subjects.add(subj);
      // the file holds the message the index says it does
      assert.match(readFileSync(v.path(u), 'latin1'), new RegExp(`Subject: ${subj}\\r\\n`));
    }
    assert.equal(subjects.size, 60);
    v.close();
  } finally {
    store.close();
    site.cleanup();
  }
});

test('kill -9 in the middle of appends: every acknowledged message survives; reconstruct adopts orphans', async () => {
  const site = tempSite();
  let store = openStore(site.conf) as StoreImpl;
  try {
    store.ensureInbox('fred');
    store.close();
    const acked = new Map<number, number>();
    let killedAt = 0;
    const c = child([site.confPath, 'forever', 'user.fred', 'K'], (m) => {
      if (m.uid) acked.set(m.uid, m.n!);
      if (acked.size === 40 && !killedAt) {
        killedAt = Date.now();
        c.proc.kill('SIGKILL');
      }
    });
    await c.exited;
    assert.ok(acked.size >= 40);
    store = openStore(site.conf) as StoreImpl;
    // simulate the crash window between rename and commit too: a file with no row
    const v0 = store.open(fred, 'user.fred', { readOnly: true });
    const next = v0.uidNext();
    const orphanPath = v0.path(next + 5);
    v0.close();
    writeFileSync(orphanPath + 'tmp', 'Subject: orphan\r\n\r\nlost\r\n');
    renameSync(orphanPath + 'tmp', orphanPath);
    const rep = await reconstructMailbox(store, 'user.fred', { addOrphans: true });
    assert.deepEqual(rep.missing, []);
    assert.ok(rep.added.includes(next + 5));
    const v = store.open(fred, 'user.fred', { readOnly: true });
    const have = new Set(v.uids());
    for (const [uid, n] of acked) {
      assert.ok(have.has(uid), `acknowledged uid ${uid} missing`);
      assert.equal(v.cache(uid).envelope.subject, `K-${n}`);
    }
    // no row without its file
    for (const u of v.uids()) assert.ok(existsSync(v.path(u)), `uid ${u} has no file`);
    assert.equal(v.cache(next + 5).envelope.subject, 'orphan');
    assert.ok(v.uidNext() > next + 5);
    v.close();
    // the store still works after the crash
    const r = await store.append(fred, 'user.fred', Buffer.from('Subject: after\r\n\r\nx\r\n'));
    assert.equal(r.uid, next + 6);
  } finally {
    store.close();
    site.cleanup();
  }
});

test('kill -9 during concurrent appends to one mailbox (group commit): every acknowledged message survives', async () => {
  const site = tempSite();
  let store = openStore(site.conf) as StoreImpl;
  try {
    store.ensureInbox('fred');
    store.close();
    const acked = new Map<number, number>();
    let killed = false;
    const c = child([site.confPath, 'parallel', 'user.fred', 'P'], (m) => {
      if (m.uid) {
        assert.ok(!acked.has(m.uid), `uid ${m.uid} acknowledged twice`);
        acked.set(m.uid, m.n!);
      }
      if (acked.size >= 60 && !killed) {
        killed = true;
        c.proc.kill('SIGKILL');
      }
    });
    await c.exited;
    assert.ok(acked.size >= 60);
    store = openStore(site.conf) as StoreImpl;
    const v = store.open(fred, 'user.fred', { readOnly: true });
    const have = new Set(v.uids());
    for (const [uid, n] of acked) {
      assert.ok(have.has(uid), `acknowledged uid ${uid} missing`);
      assert.equal(v.cache(uid).envelope.subject, `P-${n}`);
      assert.match(readFileSync(v.path(uid), 'latin1'), new RegExp(`Subject: P-${n}\\r\\n`));
    }
    for (const u of v.uids()) assert.ok(existsSync(v.path(u)), `uid ${u} has no file`);
    assert.equal(store.status(fred, 'user.fred').messages, v.uids().length);
    v.close();
  } finally {
    store.close();
    site.cleanup();
  }
});

test('kill -9 while appending and expunging: every row has its file, kept messages intact', async () => {
  const site = tempSite({ expunge_mode: 'immediate' });
  let store = openStore(site.conf) as StoreImpl;
  try {
    store.ensureInbox('fred');
    store.close();
    const kept = new Map<number, number>();
    let killed = false;
    const c = child([site.confPath, 'churn', 'user.fred', 'C'], (m) => {
      if (m.uid) kept.set(m.uid, m.n!);
      if (kept.size === 25 && !killed) {
        killed = true;
        c.proc.kill('SIGKILL');
      }
    });
    await c.exited;
    store = openStore(site.conf) as StoreImpl;
    const rep = await reconstructMailbox(store, 'user.fred');
    assert.deepEqual(rep.missing, [], 'index rows without files');
    const v = store.open(fred, 'user.fred', { readOnly: true });
    for (const [uid, n] of kept) assert.equal(v.cache(uid).envelope.subject, `C-${n}`);
    for (const u of v.uids()) assert.ok(existsSync(v.path(u)));
    // every message that was expunged and acknowledged is gone from the view
    const live = new Set(v.uids());
    for (const uid of kept.keys()) assert.ok(!live.has(uid + 1), `expunged uid ${uid + 1} still listed`);
    v.close();
  } finally {
    store.close();
    site.cleanup();
  }
});

test('watch wakes within 100 ms when another process appends', async () => {
  const site = tempSite();
  const store = openStore(site.conf);
  try {
    store.ensureInbox('fred');
    const v = store.open(fred, 'user.fred', { readOnly: false });
    let woke = 0;
    const wakeP = new Promise<void>((res) => {
      v.watch(() => {
        if (!woke) woke = Date.now();
        res();
      });
    });
    let committed = 0;
    const c = child([site.confPath, 'append', 'user.fred', '1', 'W'], (m) => {
      if (m.at) committed = m.at;
    });
    await c.exited;
    await Promise.race([wakeP, new Promise((r) => setTimeout(r, 1000))]);
    assert.ok(woke > 0, 'watch callback never fired');
    assert.ok(woke - committed < 100, `woke ${woke - committed} ms after the commit`);
    assert.deepEqual(v.sync().added, [1]);
    v.close();
  } finally {
    store.close();
    site.cleanup();
  }
});
