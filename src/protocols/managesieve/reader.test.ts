/**
 * ManageSieve command reader: literals, quoted strings, limits at their boundaries, and input
 * arriving one byte at a time. Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { LineReader } from '../../net/lines.js';
import { readCommand, ReadError, sieveString, MAX_QUOTED, type Token } from './reader.js';

function reader(): { r: LineReader; feed: (b: string | Buffer) => void; end: () => void } {
  const s = new PassThrough();
  const r = new LineReader(s, { maxLine: 200 });
  return { r, feed: (b) => s.write(b), end: () => s.end() };
}

const show = (t: Token[] | null): unknown =>
  t?.map((x) => (x.kind === 'string' ? `s:${x.value.toString()}` : `${x.kind}:${x.value}`));

test('quoted strings with escapes, numbers, atoms; literals {N+} and {N}', async () => {
  const { r, feed } = reader();
  feed('putscript "a\\"b\\\\c" {5+}\r\nkeep;\r\nHAVESPACE "x" 1234\r\nCHECKSCRIPT {3}\r\nabc\r\n');
  assert.deepEqual(show(await readCommand(r, () => 100)), ['atom:putscript', 's:a"b\\c', 's:keep;']);
  assert.deepEqual(show(await readCommand(r, () => 100)), ['atom:HAVESPACE', 's:x', 'number:1234']);
  assert.deepEqual(show(await readCommand(r, () => 100)), ['atom:CHECKSCRIPT', 's:abc']);
});

test('a command fed one byte at a time reads the same', async () => {
  const { r, feed } = reader();
  const wire = Buffer.from('PUTSCRIPT "s" {12+}\r\nrequire "x";\r\nNOOP\r\n');
  const p = (async () => [await readCommand(r, () => 100), await readCommand(r, () => 100)])();
  for (const b of wire) {
    feed(Buffer.from([b]));
    await new Promise((res) => setImmediate(res));
  }
  const [a, b] = await p;
  assert.deepEqual(show(a), ['atom:PUTSCRIPT', 's:s', 's:require "x";']);
  assert.deepEqual(show(b), ['atom:NOOP']);
});

test('literal limit: exactly at the limit is read, one over is skipped and reported, the next command is intact', async () => {
  const { r, feed } = reader();
  feed(`CHECKSCRIPT {10+}\r\n${'a'.repeat(10)}\r\nCHECKSCRIPT {11+}\r\n${'b'.repeat(11)}\r\nNOOP\r\n`);
  assert.deepEqual(show(await readCommand(r, () => 10)), ['atom:CHECKSCRIPT', `s:${'a'.repeat(10)}`]);
  await assert.rejects(
    readCommand(r, () => 10),
    (e: unknown) => e instanceof ReadError && e.kind === 'toobig' && e.command === 'CHECKSCRIPT',
  );
  assert.deepEqual(show(await readCommand(r, () => 10)), ['atom:NOOP']);
});

test('a literal beyond what may be skipped is fatal; bad syntax is not', async () => {
  const { r, feed } = reader();
  feed('X "unterminated\r\nY {abc}\r\nZ {99999999999+}\r\n');
  await assert.rejects(
    readCommand(r, () => 10),
    (e: unknown) => e instanceof ReadError && e.kind === 'syntax',
  );
  await assert.rejects(
    readCommand(r, () => 10),
    (e: unknown) => e instanceof ReadError && e.kind === 'syntax',
  );
  await assert.rejects(
    readCommand(r, () => 10),
    (e: unknown) => e instanceof ReadError && e.kind === 'fatal',
  );
});

test('quoted string: 1024 octets accepted, 1025 refused; over-long lines refused', async () => {
  const s = new PassThrough();
  const r = new LineReader(s, { maxLine: 4096 });
  s.write(`A "${'q'.repeat(MAX_QUOTED)}"\r\nB "${'q'.repeat(MAX_QUOTED + 1)}"\r\n`);
  assert.equal((await readCommand(r, () => 0))![1]!.value.toString().length, MAX_QUOTED);
  await assert.rejects(
    readCommand(r, () => 0),
    /Quoted string too long/,
  );
  const { r: r2, feed } = reader();
  feed(`NOOP "${'x'.repeat(300)}"\r\nNOOP\r\n`);
  await assert.rejects(
    readCommand(r2, () => 0),
    /Line too long/,
  );
  assert.deepEqual(show(await readCommand(r2, () => 0)), ['atom:NOOP']);
});

test('end of input gives null; sieveString quotes or uses a literal', async () => {
  const { r, feed, end } = reader();
  feed('NOOP');
  end();
  assert.equal(await readCommand(r, () => 0), null);
  assert.equal(sieveString('a"b'), '"a\\"b"');
  assert.deepEqual(sieveString('a\r\nb'), Buffer.from('{4}\r\na\r\nb'));
});
