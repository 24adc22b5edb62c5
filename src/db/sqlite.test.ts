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
