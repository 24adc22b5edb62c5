import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LineReader } from './lines.js';

const s = (r: unknown): string => {
  if (r === null) return 'EOF';
  if (typeof r === 'object' && r && 'tooLong' in r) return 'TOOLONG';
  return (r as { line: Buffer }).line.toString('latin1');
};

test('lines split at every byte offset come out the same', async () => {
  const input = Buffer.from('USER fred\r\nPASS x\ny\r\n\r\nQUIT\r\n');
  for (let cut = 0; cut <= input.length; cut++) {
    const p = new PassThrough();
    const r = new LineReader(p, { maxLine: 100 });
    p.write(input.subarray(0, cut));
    setImmediate(() => {
      p.write(input.subarray(cut));
      p.end();
    });
    const got: string[] = [];
    for (;;) {
      const l = await r.readLine();
      got.push(s(l));
      if (l === null) break;
    }
    assert.deepEqual(got, ['USER fred', 'PASS x', 'y', '', 'QUIT', 'EOF'], `cut at ${cut}`);
  }
});

test('line length limit: exactly at the cap passes, one byte over fails, across chunks too', async () => {
  const p = new PassThrough();
  const r = new LineReader(p, { maxLine: 10, highWater: 16 });
  p.write('0123456789\r\n');
  assert.equal(s(await r.readLine()), '0123456789');
  p.write('01234567890\r\n');
  assert.equal(s(await r.readLine()), 'TOOLONG');
  // a long line trickling in is dropped without being buffered, then reading resumes
  const pr = r.readLine();
  for (let i = 0; i < 100; i++) p.write('xxxxxxxxxx');
  assert.ok(r.buffered <= 20, `buffered ${r.buffered}`);
  p.write('tail\r\nNEXT\r\n');
  assert.equal(s(await pr), 'TOOLONG');
  assert.equal(s(await r.readLine()), 'NEXT');
  // CR counts as line end material, not content
  p.write('0123456789\r');
  p.write('\n');
  assert.equal(s(await r.readLine()), '0123456789');
  p.end();
  assert.equal(await r.readLine(), null);
});

test('raw mode hands out buffered bytes first; unread feeds lines again', async () => {
  const p = new PassThrough();
  const r = new LineReader(p, { maxLine: 100 });
  p.write('DATA\r\nbody line\r\n.\r\nQUIT\r\n');
  assert.equal(s(await r.readLine()), 'DATA');
  const chunk = await r.readRaw();
  assert.ok(chunk);
  const end = chunk.indexOf('\r\n.\r\n');
  assert.equal(chunk.subarray(0, end).toString(), 'body line');
  r.unread(chunk.subarray(end + 5));
  assert.equal(s(await r.readLine()), 'QUIT');
  p.end();
  assert.equal(await r.readRaw(), null);
});

test('detach discards pipelined plaintext; attach continues on the new stream', async () => {
  const plain = new PassThrough();
  const r = new LineReader(plain, { maxLine: 100 });
  plain.write('STLS\r\nUSER injected\r\n');
  assert.equal(s(await r.readLine()), 'STLS');
  const back = r.detach();
  assert.equal(back, plain);
  assert.equal(r.buffered, 0);
  const secure = new PassThrough();
  r.attach(secure);
  // the old stream closing later must not end the new one
  plain.destroy();
  await new Promise((res) => setImmediate(res));
  secure.write('USER real\r\n');
  assert.equal(s(await r.readLine()), 'USER real');
  secure.end();
  assert.equal(await r.readLine(), null);
});

test('backpressure: unread input beyond highWater pauses the stream', async () => {
  const p = new PassThrough();
  const r = new LineReader(p, { maxLine: 10, highWater: 32 });
  p.write('a\r\n'.repeat(20));
  await new Promise((res) => setImmediate(res));
  assert.equal(p.isPaused(), true);
  for (let i = 0; i < 20; i++) assert.equal(s(await r.readLine()), 'a');
  assert.equal(p.isPaused(), false);
});

test('a destroyed socket ends a waiting read', async () => {
  const p = new PassThrough();
  const r = new LineReader(p, { maxLine: 10 });
  const pr = r.readLine();
  p.destroy();
  assert.equal(await pr, null);
});

test('random input split at random points gives the same lines as a whole-buffer split', async () => {
  const alphabet = ['a', 'b', '\r', '\n', '\r\n', 'xyz'];
  for (let round = 0; round < 200; round++) {
    let text = '';
    for (let i = Math.floor(Math.random() * 40); i > 0; i--)
      text += alphabet[Math.floor(Math.random() * alphabet.length)];
    const input = Buffer.from(text, 'latin1');
    // reference: split at LF, drop one CR before it, cap 5 bytes; text after the last LF is dropped at EOF
    const want: string[] = [];
    let rest = text;
    for (let lf = rest.indexOf('\n'); lf >= 0; lf = rest.indexOf('\n')) {
      let line = rest.slice(0, lf);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      want.push(line.length > 5 ? 'TOOLONG' : line);
      rest = rest.slice(lf + 1);
    }
    want.push('EOF');
    const p = new PassThrough();
    const r = new LineReader(p, { maxLine: 5, highWater: 8 });
    (async () => {
      let off = 0;
      while (off < input.length) {
        const n = 1 + Math.floor(Math.random() * 4);
        p.write(input.subarray(off, off + n));
        off += n;
        await new Promise((res) => setImmediate(res));
      }
      p.end();
    })();
    const got: string[] = [];
    for (;;) {
      const l = await r.readLine();
      got.push(s(l));
      if (l === null) break;
    }
    assert.deepEqual(got, want, JSON.stringify(text));
  }
});
