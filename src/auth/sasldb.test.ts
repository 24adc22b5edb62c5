import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SasldbStore } from './sasldb.js';
import { openPasswordStore } from './passwords.js';
import { scramSecret } from './secrets.js';
import { testConf } from './test-conf.js';
import { ConfigError } from '../config/api.js';

test('sasldb: create, verify, scram secrets, cleartext on request, delete', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sasldb-'));
  try {
    const path = join(dir, 'sub', 'sasldb2');
    const s = new SasldbStore(path);
    assert.equal(await s.verify('fred', 'pw'), false);
    assert.equal(existsSync(path), false, 'a reader must not create the file');
    await s.setPassword('fred', 'pw');
    await s.setPassword('joe@example.com', 'j', { keepCleartext: true });
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(await s.verify('fred', 'pw'), true);
    assert.equal(await s.verify('fred', 'pW'), false);
    assert.equal(await s.cleartext('fred'), null);
    assert.equal(await s.cleartext('joe@example.com'), 'j');
    const sec = await s.scram('fred', 'SHA-256');
    assert.ok(sec);
    assert.equal(sec.iterations, 4096);
    assert.deepEqual(scramSecret('SHA-256', 'pw', sec.salt, sec.iterations), sec);
    const sec1 = await s.scram('fred', 'SHA-1');
    assert.equal(sec1?.storedKey.length, 20);
    assert.deepEqual(s.list(), ['fred', 'joe@example.com']);
    // the verified-login cache answers repeats fast, and never for another password
    const t = Date.now();
    for (let i = 0; i < 20; i++) assert.equal(await s.verify('fred', 'pw'), true);
    assert.ok(Date.now() - t < 500, `cached verifies took ${Date.now() - t} ms`);
    assert.equal(await s.verify('fred', 'pw2'), false);
    // a second handle (another process) sees the change
    const other = new SasldbStore(path);
    await s.setPassword('fred', 'new');
    assert.equal(await other.verify('fred', 'new'), true);
    assert.equal(await s.verify('fred', 'pw'), false, 'a changed password is not served from the cache');
    assert.equal(s.delete('fred'), true);
    assert.equal(s.delete('fred'), false);
    assert.equal(await other.exists('fred'), false);
    other.close();
    s.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('openPasswordStore: by sasl_pwcheck_method', () => {
  assert.deepEqual(openPasswordStore(testConf()).methods, ['auxprop']);
  assert.equal(openPasswordStore(testConf({ sasl_pwcheck_method: 'saslauthd' })).hasSecrets, false);
  assert.deepEqual(openPasswordStore(testConf({ sasl_pwcheck_method: 'auxprop saslauthd' })).methods, [
    'auxprop',
    'saslauthd',
  ]);
  assert.throws(() => openPasswordStore(testConf({ sasl_pwcheck_method: 'alwaystrue' })), ConfigError);
});
