import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PopLock } from './lock.js';

test('one holder at a time; released locks can be taken again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'poplock-'));
  try {
    const a = PopLock.acquire(dir, 'user.fred');
    assert.ok(a);
    assert.equal(PopLock.acquire(dir, 'user.fred'), null);
    const b = PopLock.acquire(dir, 'user.bob');
    assert.ok(b);
    a.release();
    const c = PopLock.acquire(dir, 'user.fred');
    assert.ok(c);
    c.release();
    b.release();
    assert.deepEqual(readdirSync(join(dir, 'pop3')), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock left by a dead process is taken over; a live one is respected', () => {
  const dir = mkdtempSync(join(tmpdir(), 'poplock-'));
  try {
    const a = PopLock.acquire(dir, 'user.x')!;
    const path = a.path;
    a.release();
    writeFileSync(path, '999999999\n'); // no such pid
    const b = PopLock.acquire(dir, 'user.x');
    assert.ok(b, 'stale lock taken over');
    b.release();
    writeFileSync(path, `${process.ppid}\n`); // a live process (our parent)
    assert.equal(PopLock.acquire(dir, 'user.x'), null);
    rmSync(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
