import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ReplyBatch } from './reply-batch.js';

/** a stream recording each write(2)-like call it receives (writev counts once) */
function recorder(): { out: Writable; calls: string[] } {
  const calls: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _e, cb) {
      calls.push(chunk.toString());
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => String(c.chunk)).join(''));
      cb();
    },
  });
  return { out, calls };
}

test('ReplyBatch gathers writes while holding and releases the stream it corked', () => {
  const a = recorder();
  const batch = new ReplyBatch();
  batch.hold(a.out);
  batch.hold(a.out); // holding already: no second cork
  a.out.write('250 one\r\n');
  a.out.write('250 two\r\n');
  assert.equal(a.calls.length, 0);
  assert.equal(batch.holding, true);
  // the session's output changed meanwhile (STARTTLS): the corked stream is the one released
  const b = recorder();
  batch.release();
  assert.deepEqual(a.calls, ['250 one\r\n250 two\r\n']);
  assert.equal(batch.holding, false);
  batch.release(); // not holding: nothing happens
  b.out.write('220 go\r\n');
  assert.deepEqual(b.calls, ['220 go\r\n']);
});
