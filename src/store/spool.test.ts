import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpoolFiles, spoolMessage } from './spool.js';

test('SpoolFiles: files are created one ahead, distinct, and the spare one is removed on close', async () => {
  const base = mkdtempSync(join(tmpdir(), 'spool-'));
  const stage = join(base, 'stage.'); // missing: created on first use
  try {
    const sf = new SpoolFiles(stage);
    const a = await sf.take();
    const [b, c] = await Promise.all([sf.take(), sf.take()]);
    assert.equal(new Set([a.path, b.path, c.path]).size, 3);
    const r = await spoolMessage(Buffer.from('Subject: x\n\nbody\n'), a, 0);
    assert.equal(readFileSync(a.path, 'latin1'), 'Subject: x\r\n\r\nbody\r\n');
    assert.equal(r.size, 20);
    await spoolMessage(Buffer.from('Subject: y\r\n\r\n'), b, 0);
    await spoolMessage(Buffer.from('Subject: z\r\n\r\n'), c, 0);
    await new Promise((res) => setTimeout(res, 50)); // let the prepared file arrive
    assert.equal(readdirSync(stage).length, 4, 'three taken plus one prepared');
    sf.close();
    assert.deepEqual(
      readdirSync(stage).sort(),
      [a.path, b.path, c.path].map((p) => p.slice(stage.length + 1)).sort(),
    );
    await assert.rejects(sf.take());
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('SpoolFiles: a too-big message leaves no file behind', async () => {
  const base = mkdtempSync(join(tmpdir(), 'spool-'));
  try {
    const sf = new SpoolFiles(base);
    const f = await sf.take();
    const r = await spoolMessage(Buffer.alloc(100, 0x41), f, 10);
    assert.equal(r.tooBig, true);
    sf.close();
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(readdirSync(base), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
