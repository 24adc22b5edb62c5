import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFlags, IndexDb, keywordString, parseKeywords } from './index-db.js';

test('an index db with the old single cache table is migrated on open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'indexdb-'));
  try {
    const path = join(dir, 'u.index.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE cache (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, header_size INTEGER NOT NULL, lines INTEGER NOT NULL,
      envelope TEXT NOT NULL, body TEXT NOT NULL, preview TEXT NOT NULL, search_headers TEXT NOT NULL, search_body TEXT NOT NULL,
      sort_subject TEXT NOT NULL, sort_from TEXT NOT NULL, sort_to TEXT NOT NULL, sort_cc TEXT NOT NULL,
      sort_displayfrom TEXT NOT NULL, sort_displayto TEXT NOT NULL, PRIMARY KEY (mbox, uid));
      INSERT INTO cache VALUES (1, 7, 10, 2, '{"subject":"s"}', '{}', 'pv', 'subject: s\n', 'body text', 's', 'f', 't', 'c', 'df', 'dt');`);
    old.close();
    const db = new IndexDb(path);
    const c = db.getCache(1, 7)!;
    assert.equal(c.envelope, '{"subject":"s"}');
    assert.equal(c.search_body, 'body text');
    assert.equal(c.search_headers, 'subject: s\n');
    assert.equal(c.sort_displayfrom, 'df');
    assert.deepEqual(db.db.prepare("SELECT name FROM sqlite_master WHERE name = 'cache'").all(), []);
    db.deleteCache(1, 7);
    assert.equal(db.getCache(1, 7), undefined);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cache tables keyed by (mbox, uid) (before the id key) are rebuilt on open, rows kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'indexdb-'));
  try {
    const path = join(dir, 'u.index.db');
    const old = new Database(path);
    old.exec(`CREATE TABLE msgcache (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, header_size INTEGER NOT NULL,
      lines INTEGER NOT NULL, sort_subject TEXT NOT NULL, sort_from TEXT NOT NULL, sort_to TEXT NOT NULL,
      sort_cc TEXT NOT NULL, sort_displayfrom TEXT NOT NULL, sort_displayto TEXT NOT NULL, preview TEXT NOT NULL,
      envelope TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (mbox, uid));
      CREATE TABLE hdrtext (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, search_headers TEXT NOT NULL, PRIMARY KEY (mbox, uid));
      CREATE TABLE bodytext (mbox INTEGER NOT NULL, uid INTEGER NOT NULL, search_body TEXT NOT NULL, PRIMARY KEY (mbox, uid));
      INSERT INTO msgcache VALUES (2, 9, 10, 2, 's', 'f', 't', 'c', 'df', 'dt', 'pv', '{"subject":"s"}', '{}');
      INSERT INTO msgcache VALUES (3, 9, 11, 3, 's3', 'f', 't', 'c', 'df', 'dt', 'pv', '{}', '{}');
      INSERT INTO hdrtext VALUES (2, 9, 'subject: s\n');
      INSERT INTO bodytext VALUES (2, 9, 'body text');`);
    old.close();
    const db = new IndexDb(path);
    const c = db.getCache(2, 9)!;
    assert.equal(c.envelope, '{"subject":"s"}');
    assert.equal(c.envelope_imap, null);
    assert.equal(c.search_headers, 'subject: s\n');
    assert.equal(c.search_body, 'body text');
    assert.equal(c.search_truncated, 0);
    assert.equal(db.getCache(3, 9)!.header_size, 11);
    assert.deepEqual(
      db.db.prepare("SELECT name FROM sqlite_master WHERE name LIKE '%by_mbox_uid%'").all(),
      [],
    );
    assert.deepEqual(
      db.s.cacheRange.all(2, 0, 2, 100).map((r) => r.uid),
      [9],
    );
    db.deleteCaches(2);
    assert.equal(db.getCache(2, 9), undefined);
    assert.equal(db.getCache(3, 9)!.header_size, 11, 'another mailbox keeps its rows');
    db.close();
    // opening again finds the new layout: nothing to do
    new IndexDb(path).close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flag encoding: system flags to bits, keywords deduplicated case-insensitively, \\Recent ignored', () => {
  const f = encodeFlags(['\\Seen', '\\deleted', '\\Recent', 'Work', 'work', '$Label1', '\\Bogus']);
  assert.equal(f.bits, 16 | 4);
  assert.deepEqual(f.keywords, ['Work', '$Label1']);
  assert.equal(keywordString(f.keywords), ' Work $Label1 ');
  assert.deepEqual(parseKeywords(' Work $Label1 '), ['Work', '$Label1']);
  assert.deepEqual(parseKeywords(''), []);
});
