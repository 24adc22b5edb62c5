/**
 * The one test suite every cyrusdb backend must pass (STYLE: "one shared backend suite").
 *
 * `runBackendSuite({ name, open, skip })` registers node:test cases; `open(path, opts)` opens
 * (or creates) a database of that backend at a path inside a fresh temp directory.
 * Imports: node:test, node:assert, ./api.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DbError, type CyrusDb, type DbOpenOptions } from './api.js';

export interface BackendSuiteOptions {
  name: string;
  open: (path: string, opts?: DbOpenOptions) => CyrusDb;
  /** tests this backend cannot run, each with its reason */
  skip?: { reason: string; tests: string[] }[];
}

export function runBackendSuite(o: BackendSuiteOptions): void {
  const skipped = new Map<string, string>();
  for (const s of o.skip ?? []) for (const t of s.tests) skipped.set(t, s.reason);

  const t = (title: string, fn: (dir: string) => void | Promise<void>): void => {
    const reason = skipped.get(title);
    test(`${o.name}: ${title}`, reason ? { skip: reason } : {}, async () => {
      const dir = mkdtempSync(join(tmpdir(), `cyrusdb-${o.name}-`));
      try {
        await fn(dir);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  };

  t('store, fetch and delete; absent is undefined, empty value is a value', (dir) => {
    const db = o.open(join(dir, 'a.db'));
    assert.equal(db.fetch('nope'), undefined);
    db.store('k1', 'v1');
    db.store('empty', '');
    assert.equal(db.fetch('k1')?.toString(), 'v1');
    const e = db.fetch('empty');
    assert.ok(e !== undefined);
    assert.equal(e.length, 0);
    db.store('k1', 'v2');
    assert.equal(db.fetch('k1')?.toString(), 'v2');
    assert.equal(db.delete('k1'), true);
    assert.equal(db.fetch('k1'), undefined);
    assert.equal(db.delete('k1'), false);
    assert.throws(
      () => db.delete('k1', undefined, { force: false }),
      (err: unknown) => err instanceof DbError && err.code === 'notFound',
    );
    db.close();
  });

  t('keys and values are binary-safe', (dir) => {
    const db = o.open(join(dir, 'b.db'));
    const k = Buffer.from([0x61, 0x00, 0x09, 0x0d, 0x0a, 0xff, 0x00]);
    const v = Buffer.from([0x00, 0xff, 0x0a, 0x00]);
    db.store(k, v);
    db.store(Buffer.from([0x61, 0x00]), 'short');
    assert.deepEqual(db.fetch(k), v);
    assert.equal(db.fetch(Buffer.from([0x61, 0x00]))?.toString(), 'short');
    assert.equal(db.fetch(Buffer.from([0x61])), undefined);
    db.close();
  });

  t('create refuses an existing key', (dir) => {
    const db = o.open(join(dir, 'c.db'));
    db.create('x', '1');
    assert.throws(
      () => db.create('x', '2'),
      (err: unknown) => err instanceof DbError && err.code === 'exists',
    );
    assert.equal(db.fetch('x')?.toString(), '1');
    db.close();
  });

  t('foreach walks a prefix in bytewise order and can stop', (dir) => {
    const db = o.open(join(dir, 'd.db'));
    const keys = ['b', 'a\u00ff', 'a', 'a\u0000x', 'ab', 'a\u0001', 'c'];
    for (const k of keys) db.store(Buffer.from(k, 'latin1'), k);
    const seen: string[] = [];
    db.foreach(Buffer.from('a', 'latin1'), (k) => {
      seen.push(k.toString('latin1'));
    });
    assert.deepEqual(seen, ['a', 'a\u0000x', 'a\u0001', 'ab', 'a\u00ff']);
    const all: string[] = [];
    db.foreach('', (k) => {
      all.push(k.toString('latin1'));
    });
    assert.equal(all.length, keys.length);
    assert.equal(all[all.length - 1], 'c');
    let n = 0;
    db.foreach('', () => ++n < 2);
    assert.equal(n, 2);
    db.close();
  });

  t('foreach over many keys (more than one batch), with 0xff prefixes', (dir) => {
    const db = o.open(join(dir, 'e.db'));
    const txn = db.begin();
    for (let i = 0; i < 1000; i++)
      db.store(
        Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from(String(i).padStart(4, '0'))]),
        String(i),
        txn,
      );
    db.store('zzz', 'other', txn);
    db.commit(txn);
    let count = 0;
    let last = '';
    db.foreach(Buffer.from([0xff, 0xff]), (k) => {
      const s = k.subarray(2).toString();
      assert.ok(s > last);
      last = s;
      count++;
    });
    assert.equal(count, 1000);
    db.close();
  });

  t('foreach callback may write; keys added after the cursor are visited', (dir) => {
    const db = o.open(join(dir, 'f.db'));
    db.store('p1', '');
    db.store('p3', '');
    const seen: string[] = [];
    db.foreach('p', (k) => {
      const s = k.toString();
      seen.push(s);
      if (s === 'p1') db.store('p2', 'added');
      if (s === 'p3') db.delete('p1');
    });
    assert.deepEqual(seen, ['p1', 'p2', 'p3']);
    assert.equal(db.fetch('p1'), undefined);
    db.close();
  });

  t('transactions commit and abort; the handle is dead afterwards', (dir) => {
    const db = o.open(join(dir, 'g.db'));
    let txn = db.begin();
    db.store('a', '1', txn);
    assert.equal(db.fetch('a', txn)?.toString(), '1');
    db.abort(txn);
    assert.equal(txn.active, false);
    assert.equal(db.fetch('a'), undefined);
    assert.throws(
      () => db.store('a', 'x', txn),
      (err: unknown) => err instanceof DbError && err.code === 'txn',
    );
    txn = db.begin();
    db.store('a', '2', txn);
    db.foreach('', () => undefined, txn);
    db.commit(txn);
    assert.throws(
      () => db.commit(txn),
      (err: unknown) => err instanceof DbError && err.code === 'txn',
    );
    assert.equal(db.fetch('a')?.toString(), '2');
    db.close();
  });

  t('calls without the open txn on the same handle are refused', (dir) => {
    const db = o.open(join(dir, 'h.db'));
    const txn = db.begin();
    assert.throws(
      () => db.fetch('a'),
      (err: unknown) => err instanceof DbError && err.code === 'txn',
    );
    assert.throws(
      () => db.begin(),
      (err: unknown) => err instanceof DbError && err.code === 'txn',
    );
    db.abort(txn);
    db.close();
  });

  t('another handle does not see uncommitted writes, and waits then fails on the lock', (dir) => {
    const path = join(dir, 'i.db');
    const a = o.open(path);
    const b = o.open(path, { busyTimeoutMs: 50 });
    const txn = a.begin();
    a.store('k', 'v', txn);
    assert.equal(b.fetch('k'), undefined);
    const t0 = Date.now();
    assert.throws(
      () => b.store('k', 'w'),
      (err: unknown) => err instanceof DbError && err.code === 'locked',
    );
    assert.ok(Date.now() - t0 >= 40);
    a.commit(txn);
    assert.equal(b.fetch('k')?.toString(), 'v');
    b.store('k', 'w');
    assert.equal(a.fetch('k')?.toString(), 'w');
    a.close();
    b.close();
  });

  t('data survives close and reopen; missing file without create is notFound', (dir) => {
    const path = join(dir, 'j.db');
    assert.throws(
      () => o.open(path, { create: false }),
      (err: unknown) => err instanceof DbError && err.code === 'notFound',
    );
    const db = o.open(path);
    db.store('persist', 'yes');
    db.close();
    const again = o.open(path, { create: false });
    assert.equal(again.fetch('persist')?.toString(), 'yes');
    again.close();
  });

  t('checkpoint, archive and consistency check', (dir) => {
    const db = o.open(join(dir, 'k.db'));
    for (let i = 0; i < 50; i++) db.store(`key${i}`, `value${i}`);
    db.checkpoint();
    assert.deepEqual(db.check(), { ok: true, problems: [] });
    const copy = join(dir, 'backup', 'k.db');
    db.archive(copy);
    db.store('key0', 'changed');
    const b = o.open(copy, { create: false });
    assert.equal(b.fetch('key0')?.toString(), 'value0');
    assert.equal(b.fetch('key49')?.toString(), 'value49');
    b.close();
    db.close();
  });
}
