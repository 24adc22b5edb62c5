import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackendSuite } from './backend-suite.js';
import { openSqlite } from './sqlite.js';
import { openDb, resolveBackend, DbError } from './index.js';
import { DuplicateDb } from './duplicate.js';
import { memoryLogger } from '../log/logger.js';

runBackendSuite({ name: 'sqlite', open: (path, opts) => openSqlite(path, opts ?? {}) });

test('Cyrus backend names map to sqlite with a warning; unknown names are refused', () => {
  assert.deepEqual(resolveBackend('twoskip'), { backend: 'sqlite', mapped: true });
  assert.deepEqual(resolveBackend('berkeley-nosync'), { backend: 'sqlite', mapped: true });
  assert.deepEqual(resolveBackend('sqlite'), { backend: 'sqlite', mapped: false });
  assert.throws(() => resolveBackend('bogus'), DbError);
  const dir = mkdtempSync(join(tmpdir(), 'cyrusdb-map-'));
  try {
    const log = memoryLogger();
    const db = openDb(join(dir, 'x.db'), 'skiplist', { log });
    assert.equal(db.backend, 'sqlite');
    assert.match(log.lines.join('\n'), /skiplist.*served by sqlite/);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deliver.db marks, checks and prunes duplicates', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyrusdb-dup-'));
  try {
    const d = new DuplicateDb(openDb(join(dir, 'deliver.db')));
    assert.equal(d.check('<a@x>', 'user.fred'), undefined);
    d.mark('<a@x>', 'user.fred', 7, 1000);
    d.mark('<b@x>', 'user.fred', 8, 5000);
    assert.deepEqual(d.check('<a@x>', 'user.fred'), { time: 1000, uid: 7 });
    assert.equal(d.check('<A@x>', 'user.fred'), undefined);
    assert.equal(d.check('<a@x>', 'user.bob'), undefined);
    assert.equal(d.prune(2000), 1);
    assert.equal(d.check('<a@x>', 'user.fred'), undefined);
    assert.ok(d.check('<b@x>', 'user.fred'));
    d.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('deliver.db markSoon: checked at once, written after the turn in one go, flushed by close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyrusdb-dup-'));
  try {
    const path = join(dir, 'deliver.db');
    const d = new DuplicateDb(openDb(path));
    const other = new DuplicateDb(openDb(path));
    d.markSoon('<a@x>', 'user.fred', 7, 1000);
    d.markSoon('<b@x>', 'user.fred', 8, 1000);
    assert.deepEqual(d.check('<a@x>', 'user.fred'), { time: 1000, uid: 7 });
    // not written yet: another handle does not see it
    assert.equal(other.check('<a@x>', 'user.fred'), undefined);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(other.check('<a@x>', 'user.fred'), { time: 1000, uid: 7 });
    assert.deepEqual(other.check('<b@x>', 'user.fred'), { time: 1000, uid: 8 });
    d.markSoon('<c@x>', 'user.fred', 9, 1000);
    d.close();
    assert.deepEqual(other.check('<c@x>', 'user.fred'), { time: 1000, uid: 9 });
    other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readCache: a cached fetch sees commits of other connections and of its own handle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyrusdb-cache-'));
  try {
    const path = join(dir, 'mailboxes.db');
    const cached = openSqlite(path, { readCache: 2 });
    const other = openSqlite(path, {});
    other.store('a', '1');
    assert.equal(cached.fetch('a')?.toString(), '1');
    assert.equal(cached.fetch('missing'), undefined);
    // another connection (another process, for SQLite) commits: the next fetch reads again
    other.store('a', '2');
    other.store('missing', 'now');
    assert.equal(cached.fetch('a')?.toString(), '2');
    assert.equal(cached.fetch('missing')?.toString(), 'now');
    // writes through the cached handle itself (its own commits leave data_version alone)
    cached.store('a', '3');
    assert.equal(cached.fetch('a')?.toString(), '3');
    const t = cached.begin();
    cached.delete('a', t);
    assert.equal(cached.fetch('a', t), undefined);
    cached.abort(t);
    assert.equal(cached.fetch('a')?.toString(), '3');
    cached.delete('a');
    assert.equal(cached.fetch('a'), undefined);
    // more keys than the cache holds: still right
    for (const k of ['x', 'y', 'z']) other.store(k, k.toUpperCase());
    assert.deepEqual(['x', 'y', 'z', 'x'].map((k) => cached.fetch(k)?.toString()), ['X', 'Y', 'Z', 'X']);
    cached.close();
    other.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
