import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubject, isReplyOrForward } from './subject.js';

test('RFC 5256 base subject', () => {
  const cases: [string, string, boolean][] = [
    ['Hello', 'Hello', false],
    ['Re: Hello', 'Hello', true],
    ['RE:   Hello  ', 'Hello', true],
    ['Re: Re: re:Hello', 'Hello', true],
    ['Fwd: Hello', 'Hello', true],
    ['Fw: Hello', 'Hello', true],
    ['Re[2]: Hello', 'Hello', true],
    ['Re [3] : Hello', 'Hello', true],
    ['[list] Re: Hello', 'Hello', true],
    ['Re: [list] Re: Hello', 'Hello', true],
    ['Hello (fwd)', 'Hello', true],
    ['Hello (fwd) (FWD)', 'Hello', true],
    ['[Fwd: Re: Hello]', 'Hello', true],
    ['[Fwd: [list] Hello (fwd)]', 'Hello', true],
    ['Hello\t \r\n world', 'Hello world', false],
    // a blob that is the whole subject stays
    ['[nothing else]', '[nothing else]', false],
    ['Re: [only blob]', '[only blob]', true],
    ['', '', false],
    ['Re:', '', true],
    ['Reply: not a prefix', 'Reply: not a prefix', false],
  ];
  for (const [input, base, reply] of cases) {
    assert.equal(baseSubject(input), base, input);
    assert.equal(isReplyOrForward(input), reply, `reply flag of ${input}`);
  }
});
