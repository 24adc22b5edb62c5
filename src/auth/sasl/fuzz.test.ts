import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SaslFailure, type SaslExchange } from '../api.js';
import { memoryStore } from '../test-store.js';
import type { MechBackend } from './common.js';
import { plain } from './plain.js';
import { login } from './login.js';
import { cramMd5 } from './cram-md5.js';
import { scram } from './scram.js';
import { external } from './external.js';
import { decodeResponse } from './wire.js';

// one store for all rounds: deriving SCRAM secrets costs two PBKDF2 runs
const st = memoryStore({ fred: { password: 'pw', cleartext: true } });
const be = (): MechBackend => {
  return {
    canon: (r) => (r === '' || /\s/.test(r) ? null : r),
    verify: (u, p) => st.verify(u, p, 'imap'),
    scram: (u, h) => st.scram(u, h),
    cleartext: (u) => st.cleartext(u),
    secret: Buffer.alloc(32, 1),
  };
};

/** Bytes that look a bit like client messages, so the parsers get past their first checks. */
function junk(): Buffer {
  const pieces = [
    'n,',
    'y,',
    'p=tls-unique,',
    'a=x,',
    ',',
    'n=fred',
    'r=',
    'c=biws',
    'p=',
    '=2C',
    '=',
    '\0',
    'fred',
    ' ',
    'x',
  ];
  if (Math.random() < 0.3) return randomBytes(Math.floor(Math.random() * 40));
  let s = '';
  for (let i = Math.floor(Math.random() * 8); i >= 0; i--)
    s += pieces[Math.floor(Math.random() * pieces.length)];
  return Buffer.from(s, 'latin1');
}

test('mechanisms answer any client bytes with a challenge, a result or a SaslFailure — never another error', async () => {
  const makers: (() => SaslExchange)[] = [
    () => plain(be()),
    () => login(be()),
    () => cramMd5(be(), 'x'),
    () => scram(be(), { hash: 'SHA-256', plus: false, bindings: [] }),
    () =>
      scram(be(), { hash: 'SHA-1', plus: true, bindings: [{ type: 'tls-unique', data: Buffer.alloc(12) }] }),
    () => external(be(), 'fred'),
  ];
  for (let round = 0; round < 3000; round++) {
    const ex = makers[round % makers.length]();
    for (let step = 0; step < 3; step++) {
      try {
        const r = await ex.step(junk());
        if ('done' in r) break;
      } catch (e) {
        assert.ok(e instanceof SaslFailure, `unexpected ${String(e)}`);
        break;
      }
    }
  }
});

test('decodeResponse never throws anything but SaslFailure', () => {
  for (let i = 0; i < 5000; i++) {
    const b = randomBytes(Math.floor(Math.random() * 12)).toString('latin1');
    try {
      decodeResponse(b);
    } catch (e) {
      assert.ok(e instanceof SaslFailure);
    }
  }
});
