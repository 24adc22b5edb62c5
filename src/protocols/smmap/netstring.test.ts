import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NetstringParser, netstring } from './netstring.js';

test('parses netstrings split at every offset', () => {
  const wire = Buffer.from('12:cyrus fred@x,5:a b c,0:,');
  for (let cut = 0; cut <= wire.length; cut++) {
    const p = new NetstringParser(100);
    const got: string[] = [];
    for (const part of [wire.subarray(0, cut), wire.subarray(cut)]) {
      p.push(part);
      for (;;) {
        const r = p.next();
        if (r.kind === 'more') break;
        assert.equal(r.kind, 'value');
        if (r.kind === 'value') got.push(r.value.toString());
      }
    }
    assert.deepEqual(got, ['cyrus fred@x', 'a b c', ''], `cut ${cut}`);
  }
});

test('malformed and over-long netstrings are errors, before the payload arrives', () => {
  const bad = (s: string, max = 100): string => {
    const p = new NetstringParser(max);
    p.push(Buffer.from(s));
    return p.next().kind;
  };
  assert.equal(bad('5:abcde;'), 'error');
  assert.equal(bad('x:'), 'error');
  assert.equal(bad(':'), 'error');
  assert.equal(bad('05:abcde,'), 'error');
  assert.equal(bad('101:'), 'error', 'length over the limit is refused at the colon');
  assert.equal(bad('1000'), 'error', 'too many digits');
  assert.equal(bad('100:'), 'more', 'exactly the limit waits for the payload');
  assert.equal(netstring('OK fred').toString(), '7:OK fred,');
});
