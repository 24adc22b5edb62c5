import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, Readable } from 'node:stream';
import { astr, nstr, Output, str } from './response.js';

test('string encoders: quoted when safe, literal otherwise, atoms when possible', () => {
  assert.equal(str('a "b" \\c'), '"a \\"b\\" \\\\c"');
  assert.equal(str('line\r\nbreak'), '{11}\r\nline\r\nbreak');
  assert.equal(str('café'), '{5}\r\ncafé');
  assert.equal(str('café', true), '"café"');
  assert.equal(nstr(null), 'NIL');
  assert.equal(astr('INBOX'), 'INBOX');
  assert.equal(astr('NIL'), '"NIL"');
  assert.equal(astr('two words'), '"two words"');
  assert.equal(astr(''), '""');
});

/** a socket-like sink that accepts `budget` bytes, then stalls until released */
function stallingSink(): { sock: Duplex; got: Buffer[]; release(): void } {
  const got: Buffer[] = [];
  let waiting: (() => void)[] = [];
  let open = false;
  const sock = new Duplex({
    highWaterMark: 16 * 1024,
    read() {},
    write(chunk: Buffer, _e, cb) {
      got.push(chunk);
      if (open) cb();
      else waiting.push(() => cb());
    },
  });
  return {
    sock,
    got,
    release() {
      open = true;
      const w = waiting;
      waiting = [];
      for (const f of w) f();
    },
  };
}

test('streamed literals respect backpressure: a stalled client stops the file reads', async () => {
  let pulled = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const total = 100;
  const src = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      pulled++;
      this.push(pulled <= total ? chunk : null);
    },
  });
  const sink = stallingSink();
  const out = new Output(sink.sock);
  const done = out.pipeExact(src, total * chunk.length);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(pulled < 8, `read ${pulled} chunks of 100 while the client read nothing`);
  sink.release();
  await done;
  out.flush();
  assert.equal(Buffer.concat(sink.got).length, total * chunk.length);
});

test('pipeExact cuts a longer source and pads a shorter one to the announced size', async () => {
  const a = stallingSink();
  a.release();
  const o = new Output(a.sock);
  await o.pipeExact(Readable.from([Buffer.from('abcdef')]), 4);
  await o.pipeExact(Readable.from([Buffer.from('xy')]), 4);
  o.flush();
  assert.equal(Buffer.concat(a.got).toString(), 'abcdxy  ');
});
