import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SaslFailure, type SaslContext } from './api.js';
import { createAuthenticator } from './authenticator.js';
import { memoryStore } from './test-store.js';
import { testConf } from './test-conf.js';
import { memoryLogger } from '../log/logger.js';

const users = {
  fred: { password: 'pw' },
  cyrus: { password: 'adm' },
  'joe@example.com': { password: 'j', cleartext: true },
};
const ctx = (o: Partial<SaslContext> = {}): SaslContext => ({
  service: 'imap',
  secure: false,
  serverName: 'mail.test',
  remote: '[127.0.0.1]:1234',
  ...o,
});

test('mechanism offer follows allowplaintext, TLS, tls_required, mech_list', () => {
  const log = memoryLogger();
  const a = createAuthenticator(testConf(), log, { store: memoryStore(users) });
  assert.deepEqual(a.mechanisms({ secure: false }), ['SCRAM-SHA-256', 'SCRAM-SHA-1']);
  assert.deepEqual(a.mechanisms({ secure: true }), ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'LOGIN']);
  assert.deepEqual(a.mechanisms({ secure: false, hasChannelBinding: true }), [
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
  ]);
  assert.deepEqual(a.mechanisms({ secure: true, hasChannelBinding: true }), [
    'SCRAM-SHA-256-PLUS',
    'SCRAM-SHA-1-PLUS',
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
    'PLAIN',
    'LOGIN',
  ]);
  assert.deepEqual(a.mechanisms({ secure: true, hasExternal: true })[0], 'EXTERNAL');
  assert.equal(a.plaintextAllowed(false), false);
  assert.equal(a.plaintextAllowed(true), true);

  const p = createAuthenticator(testConf({ allowplaintext: 'yes', allowanonymouslogin: 'yes' }), log, {
    store: memoryStore(users),
  });
  assert.deepEqual(p.mechanisms({ secure: false }), [
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
    'PLAIN',
    'LOGIN',
    'ANONYMOUS',
  ]);

  const t = createAuthenticator(testConf({ allowplaintext: 'yes', tls_required: 'yes' }), log, {
    store: memoryStore(users),
  });
  assert.deepEqual(t.mechanisms({ secure: false }), []);
  assert.equal(t.plaintextAllowed(false), false);
  assert.ok(t.mechanisms({ secure: true }).includes('PLAIN'));

  const l = createAuthenticator(testConf({ sasl_mech_list: 'plain cram-md5 SCRAM-SHA-256' }), log, {
    store: memoryStore(users),
  });
  assert.deepEqual(l.mechanisms({ secure: true, hasChannelBinding: true }), [
    'SCRAM-SHA-256-PLUS',
    'SCRAM-SHA-256',
    'CRAM-MD5',
    'PLAIN',
  ]);

  const m = createAuthenticator(testConf({ sasl_minimum_layer: '1', allowplaintext: 'yes' }), log, {
    store: memoryStore(users),
  });
  assert.deepEqual(m.mechanisms({ secure: false }), []);
  assert.ok(m.mechanisms({ secure: true }).length > 0);

  // a store without SCRAM secrets (saslauthd): only plaintext mechanisms
  const s = createAuthenticator(testConf(), log, { store: memoryStore(users), storeHasSecrets: false });
  assert.deepEqual(s.mechanisms({ secure: true, hasChannelBinding: true }), ['PLAIN', 'LOGIN']);
});

test('start: refuses disabled mechanisms; logs failures without passwords', async () => {
  const log = memoryLogger();
  const a = createAuthenticator(testConf(), log, { store: memoryStore(users) });
  assert.throws(
    () => a.start('PLAIN', ctx()),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'mech',
  );
  assert.throws(
    () => a.start('DIGEST-MD5', ctx({ secure: true })),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'mech',
  );
  assert.throws(
    () => a.start('SCRAM-SHA-256-PLUS', ctx({ secure: true })),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'mech',
  );
  // with the connection's bindings the -PLUS exchange starts and asks for a binding
  const plus = a.start(
    'SCRAM-SHA-256-PLUS',
    ctx({ secure: true, channelBindings: [{ type: 'tls-exporter', data: Buffer.alloc(32) }] }),
  );
  const first = await plus.step(Buffer.from('p=tls-exporter,,n=fred,r=abc'));
  assert.ok('challenge' in first && first.challenge.toString().startsWith('r=abc'));
  const ex = a.start('plain', ctx({ secure: true }));
  await assert.rejects(ex.step(Buffer.from('\0Fred\0sekrit-wrong')), SaslFailure);
  const line = log.lines.find((l) => l.includes('badlogin'));
  assert.ok(line, log.lines.join('\n'));
  assert.match(line, /badlogin: \[127\.0\.0\.1\]:1234 PLAIN \[Fred\]/);
  assert.ok(!log.lines.some((l) => l.includes('sekrit')));
  const ok = await a.start('PLAIN', ctx({ secure: true })).step(Buffer.from('\0Fred\0pw'));
  assert.deepEqual(ok, { done: { authcid: 'fred', authzid: '' } });
});

test('checkPassword: canonicalises, honours allowplaintext, returns Identity', async () => {
  const log = memoryLogger();
  const a = createAuthenticator(testConf({ admins: 'cyrus' }), log, { store: memoryStore(users) });
  assert.equal(await a.checkPassword('fred', 'pw', { service: 'imap', secure: false }), null);
  assert.deepEqual(await a.checkPassword('FRED', 'pw', { service: 'imap', secure: true }), {
    userid: 'fred',
    isAdmin: false,
    groups: [],
  });
  assert.deepEqual(await a.checkPassword('cyrus', 'adm', { service: 'imap', secure: true }), {
    userid: 'cyrus',
    isAdmin: true,
    groups: [],
  });
  assert.equal(
    await a.checkPassword('fred', 'hunter2x', { service: 'imap', secure: true, remote: 'r1' }),
    null,
  );
  assert.equal(await a.checkPassword('anonymous', 'x', { service: 'imap', secure: true }), null);
  assert.ok(log.lines.some((l) => /badlogin: r1 plaintext \[fred\]/.test(l)));
  assert.ok(!log.lines.some((l) => l.includes('hunter2x')));

  const v = createAuthenticator(
    testConf({
      virtdomains: 'userid',
      defaultdomain: 'example.com',
      allowplaintext: 'yes',
      allowanonymouslogin: 'yes',
    }),
    log,
    {
      store: memoryStore({ fred: { password: 'pw' } }),
    },
  );
  assert.equal(
    (await v.checkPassword('fred@Example.COM', 'pw', { service: 'pop3', secure: false }))?.userid,
    'fred',
  );
  assert.equal(
    (await v.checkPassword('anonymous', 'whatever', { service: 'pop3', secure: false }))?.userid,
    'anonymous',
  );
});

test('an exchange asking for another identity fails unless authcid is an admin', async () => {
  const log = memoryLogger();
  const a = createAuthenticator(testConf({ admins: 'cyrus' }), log, { store: memoryStore(users) });
  await assert.rejects(
    a.start('PLAIN', ctx({ secure: true })).step(Buffer.from('joe\0fred\0pw')),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'authz',
  );
  assert.ok(log.lines.some((l) => /badlogin: .* PLAIN \[fred\] authz/.test(l)));
  const ok = await a.start('PLAIN', ctx({ secure: true })).step(Buffer.from('joe\0cyrus\0adm'));
  assert.deepEqual(ok, { done: { authcid: 'cyrus', authzid: 'joe' } });
});

test('identityFor: authorisation only for admins and proxyservers', () => {
  const a = createAuthenticator(testConf({ admins: 'cyrus', proxyservers: 'murder' }), memoryLogger(), {
    store: memoryStore(users),
  });
  assert.deepEqual(a.identityFor('fred', ''), { userid: 'fred', isAdmin: false, groups: [] });
  assert.deepEqual(a.identityFor('fred', 'Fred'), { userid: 'fred', isAdmin: false, groups: [] });
  assert.throws(
    () => a.identityFor('fred', 'joe'),
    (e: unknown) => e instanceof SaslFailure && e.reason === 'authz',
  );
  assert.deepEqual(a.identityFor('cyrus', 'joe'), { userid: 'joe', isAdmin: false, groups: [] });
  assert.deepEqual(a.identityFor('murder', 'joe'), { userid: 'joe', isAdmin: false, groups: [] });
  assert.deepEqual(a.identityFor('cyrus', ''), { userid: 'cyrus', isAdmin: true, groups: [] });
});

test('failedLoginDelay and APOP', async () => {
  const a = createAuthenticator(testConf({ virtdomains: 'userid' }), memoryLogger(), {
    store: memoryStore(users),
  });
  assert.equal(a.failedLoginDelay(), 3000);
  assert.equal(
    createAuthenticator(testConf({ failedloginpause: '0' }), memoryLogger(), {
      store: memoryStore(users),
    }).failedLoginDelay(),
    0,
  );
  // RFC 1939 §7 example digest for password "tanstaaf"
  const b = createAuthenticator(testConf(), memoryLogger(), {
    store: memoryStore({ mrose: { password: 'tanstaaf', cleartext: true } }),
  });
  const banner = '<1896.697170952@dbc.mtview.ca.us>';
  assert.equal((await b.apop('mrose', banner, 'c4c9334bac560ecc979e58001b3e22fb'))?.userid, 'mrose');
  assert.equal(await b.apop('mrose', banner, 'c4c9334bac560ecc979e58001b3e22fc'), null);
  assert.equal(await a.apop('fred', banner, 'c4c9334bac560ecc979e58001b3e22fb'), null);
  assert.equal(await a.apop('joe@example.com', banner, '0'.repeat(32)), null);
});

test('plaintext login pause and alert apply only without TLS', () => {
  const a = createAuthenticator(
    testConf({ plaintextloginpause: '2', plaintextloginalert: 'Use TLS, please' }),
    memoryLogger(),
    { store: memoryStore(users) },
  );
  assert.deepEqual(a.plaintextLoginPolicy?.(false), { pauseMs: 2000, alert: 'Use TLS, please' });
  assert.deepEqual(a.plaintextLoginPolicy?.(true), { pauseMs: 0, alert: null });
  const d = createAuthenticator(testConf(), memoryLogger(), { store: memoryStore(users) });
  assert.deepEqual(d.plaintextLoginPolicy?.(false), { pauseMs: 0, alert: null });
});
