import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MEMORY_SPOOL, SpoolWriter } from './spool.js';

const opts = { maxSize: 0, munge8bit: true, reject8bit: false };

async function bytesOf(c: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(c)) return c;
  const parts: Buffer[] = [];
  for await (const p of c) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

test('a small message is spooled in memory; a file appears only when asked for', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmtp-spool-'));
  try {
    const w = await SpoolWriter.open(dir, Buffer.from('Return-Path: <a@b>\r\n'), opts);
    await w.write(Buffer.from('Subject: hi\r\n\r\nbody\r\n'));
    const verdict = await w.finish();
    assert.equal(verdict.problem, null);
    const s = w.spooled();
    assert.deepEqual(readdirSync(dir), []);
    const want = 'Return-Path: <a@b>\r\nSubject: hi\r\n\r\nbody\r\n';
    assert.equal((await bytesOf(s.content())).toString(), want);
    const p = s.path();
    assert.equal(readFileSync(p, 'utf8'), want);
    assert.equal(s.path(), p);
    s.remove();
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a message past the memory limit spills to one file, bytes in order; abort removes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lmtp-spool-'));
  try {
    const line = 'x'.repeat(998) + '\r\n';
    const body = line.repeat(Math.ceil((MEMORY_SPOOL * 1.5) / line.length));
    const w = await SpoolWriter.open(dir, Buffer.from('Return-Path: <>\r\n'), opts);
    await w.write(Buffer.from('Subject: big\r\n\r\n'));
    for (let i = 0; i < body.length; i += 65536) await w.write(Buffer.from(body.slice(i, i + 65536)));
    await w.finish();
    assert.equal(readdirSync(dir).length, 1);
    const s = w.spooled();
    const got = await bytesOf(s.content());
    assert.equal(got.length, 'Return-Path: <>\r\nSubject: big\r\n\r\n'.length + body.length);
    assert.equal(got.subarray(0, 32).toString(), 'Return-Path: <>\r\nSubject: big\r\n\r\n'.slice(0, 32));
    assert.equal(got.subarray(got.length - 10).toString(), body.slice(-10));
    s.remove();
    assert.deepEqual(readdirSync(dir), []);
    const w2 = await SpoolWriter.open(dir, Buffer.alloc(0), opts);
    await w2.write(Buffer.from('Subject: aborted\r\n\r\n'));
    for (let i = 0; i < body.length; i += 65536) await w2.write(Buffer.from(body.slice(i, i + 65536)));
    assert.equal(readdirSync(dir).length, 1);
    await w2.abort();
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
