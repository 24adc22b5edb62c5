import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotDecoder } from './dot-decoder.js';

function decodeSplit(input: Buffer, cuts: number[]): { body: string; rest: string; done: boolean } {
  const d = new DotDecoder();
  const parts: Buffer[] = [];
  let last = 0;
  for (const c of [...cuts, input.length]) {
    const r = d.feed(input.subarray(last, c));
    parts.push(...r.out);
    last = c;
    if (r.done)
      return {
        body: Buffer.concat(parts).toString(),
        rest: r.rest.toString() + input.subarray(c).toString(),
        done: true,
      };
  }
  return { body: Buffer.concat(parts).toString(), rest: '', done: false };
}

test('dot-unstuffing and the end marker, split at every offset', () => {
  const first = Buffer.from('Subject: x\r\n\r\n..leading dot\r\nmid.dot\r\n...\r\nend\r\n.\r\nQUIT\r\n');
  const want = 'Subject: x\r\n\r\n.leading dot\r\nmid.dot\r\n..\r\nend\r\n';
  for (let i = 0; i <= first.length; i++) {
    for (const j of [i, Math.min(first.length, i + 1), Math.min(first.length, i + 7)]) {
      const got = decodeSplit(first, i === j ? [i] : [i, j]);
      assert.equal(got.done, true, `split ${i},${j}`);
      assert.equal(got.body, want, `split ${i},${j}`);
      assert.equal(got.rest, 'QUIT\r\n', `split ${i},${j}`);
    }
  }
});

test('byte at a time', () => {
  const input = Buffer.from('a\r\n.\rb\r\n.\r\n');
  const d = new DotDecoder();
  const out: Buffer[] = [];
  let done = false;
  for (let i = 0; i < input.length && !done; i++) {
    const r = d.feed(input.subarray(i, i + 1));
    out.push(...r.out);
    done = r.done;
  }
  assert.equal(done, true);
  assert.equal(Buffer.concat(out).toString(), 'a\r\n\rb\r\n');
});

test('empty message and bare LF end', () => {
  assert.deepEqual(decodeSplit(Buffer.from('.\r\n'), []), { body: '', rest: '', done: true });
  assert.deepEqual(decodeSplit(Buffer.from('x\n.\nNOOP\n'), []), { body: 'x\n', rest: 'NOOP\n', done: true });
  assert.equal(decodeSplit(Buffer.from('x\r\n.. \r\n'), []).done, false);
});
