import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseSubject } from './subject.js';

test('RFC 5256 base subject', () => {
  assert.equal(baseSubject('Re: Hello'), 'hello');
  assert.equal(baseSubject('RE: re: Fwd: Hello'), 'hello');
  assert.equal(baseSubject('Re[2]: Hello (fwd)'), 'hello');
  assert.equal(baseSubject('[list] Re: Hello'), 'hello');
  assert.equal(baseSubject('[Fwd: Re: Hello]'), 'hello');
  assert.equal(baseSubject('  Hello   world  '), 'hello world');
  assert.equal(baseSubject('[only a blob]'), '[only a blob]');
  assert.equal(baseSubject('Reply needed'), 'reply needed');
  assert.equal(baseSubject(''), '');
});
