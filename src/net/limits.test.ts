import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readLimits } from './limits.js';
import { testConf } from '../auth/test-conf.js';

test('limits: Cyrus defaults', () => {
  const l = readLimits(testConf());
  assert.equal(l.maxWord, 131072);
  assert.equal(l.maxQuoted, 131072);
  assert.equal(l.maxLiteral, 131072);
  assert.equal(l.maxArgsSize, 0);
  assert.equal(l.maxMessageSize, 0);
  assert.equal(l.timeouts.imap, 32 * 60);
  assert.equal(l.timeouts.imapIdle, 32 * 60);
  assert.equal(l.timeouts.pop3, 10 * 60);
  assert.equal(l.timeouts.nntp, 3 * 60);
});

test('limits: configured values, minimum timeouts enforced', () => {
  const l = readLimits(
    testConf({
      maxword: '1024',
      maxmessagesize: '10485760',
      timeout: '5',
      imapidletimeout: '45',
      poptimeout: '20m',
    }),
  );
  assert.equal(l.maxWord, 1024);
  assert.equal(l.maxMessageSize, 10485760);
  assert.equal(l.timeouts.imap, 30 * 60, 'timeout below 30 minutes is raised');
  assert.equal(l.timeouts.imapIdle, 45 * 60);
  assert.equal(l.timeouts.pop3, 20 * 60);
});
