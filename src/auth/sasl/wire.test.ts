import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaslFailure, type SaslExchange } from '../api.js';
import { decodeInitialResponse, decodeResponse, encodeChallenge, runExchange } from './wire.js';
import { plain } from './plain.js';
import type { MechBackend } from './common.js';
import { memoryStore } from '../test-store.js';

test('decodeResponse: strict base64, * cancels, = is an empty initial response', () => {
  assert.equal(decodeResponse('*'), 'cancel');
  assert.deepEqual(decodeResponse('AGZyZWQAcHc='), Buffer.from('\0fred\0pw'));
  assert.deepEqual(decodeResponse(''), Buffer.alloc(0));
  for (const bad of ['AGZy ZWQ=', 'abc', 'ab=c', '!!!!', 'AB==CD=='])
    assert.throws(() => decodeResponse(bad), SaslFailure, bad);
  assert.deepEqual(decodeInitialResponse('='), Buffer.alloc(0));
  assert.throws(() => decodeInitialResponse('*'), SaslFailure);
  assert.equal(encodeChallenge(Buffer.from('Username:')), 'VXNlcm5hbWU6');
});

const be = (): MechBackend => {
  const st = memoryStore({ fred: { password: 'pw' } });
  return {
    canon: (r) => r,
    verify: (u, p) => st.verify(u, p, 'imap'),
    scram: (u, h) => st.scram(u, h),
    cleartext: () => Promise.resolve(null),
    secret: Buffer.alloc(32),
  };
};

test('runExchange: PLAIN without initial response asks once', async () => {
  const sent: string[] = [];
  const r = await runExchange(plain(be()), {
    initial: null,
    challenge: async (d) => {
      sent.push(encodeChallenge(d));
      return Buffer.from('\0fred\0pw');
    },
  });
  assert.deepEqual(sent, ['']);
  assert.deepEqual(r, { authcid: 'fred', authzid: '' });
});

test('runExchange: cancel, and server-final sent as a challenge unless the protocol carries it', async () => {
  await assert.rejects(
    runExchange(plain(be()), { initial: null, challenge: async () => 'cancel' }),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'aborted',
  );
  // a fake exchange that succeeds with server-final data
  const fake = (): SaslExchange => ({
    step: async () => ({ done: { authcid: 'a', authzid: '', final: Buffer.from('v=xyz') } }),
  });
  const seen: string[] = [];
  const r = await runExchange(fake(), {
    initial: Buffer.from('x'),
    challenge: async (d) => (seen.push(d.toString()), Buffer.alloc(0)),
  });
  assert.deepEqual(seen, ['v=xyz']);
  assert.equal(r.final, undefined);
  const carried = await runExchange(fake(), {
    initial: Buffer.from('x'),
    challenge: async () => Buffer.alloc(0),
    successData: true,
  });
  assert.equal(carried.final?.toString(), 'v=xyz');
  await assert.rejects(
    runExchange(fake(), { initial: Buffer.from('x'), challenge: async () => Buffer.from('junk') }),
    SaslFailure,
  );
  // a mechanism that keeps challenging is stopped
  const endless: SaslExchange = { step: async () => ({ challenge: Buffer.alloc(0) }) };
  await assert.rejects(
    runExchange(endless, { initial: null, challenge: async () => Buffer.alloc(0) }),
    SaslFailure,
  );
});
