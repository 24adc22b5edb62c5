/**
 * ManageSieve (RFC 5804) raw exchanges against timsieved on a loopback port. Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { serveForTest } from '../../services/harness.js';
import { createAuthenticator } from '../../auth/authenticator.js';
import { memoryStore } from '../../auth/test-store.js';
import { memoryLogger } from '../../log/logger.js';
import { makeTestCerts } from '../../net/test-certs.js';
import { tempSite } from '../../sieve/test-helpers.js';
import { createTimsieved } from './service.js';
import { openStore } from '../../store/index.js';
import { SasldbStore } from '../../auth/sasldb.js';
import { loadService } from '../../services/registry.js';
import { SieveClient, plain } from './test-client.js';

const USERS = { fred: { password: 'pw' }, cyrus: { password: 'adm' }, ghost: { password: 'boo' } };

async function setup(extra: Record<string, string> = {}) {
  const site = tempSite({ allowplaintext: 'yes', admins: 'cyrus', ...extra });
  const log = memoryLogger('sieve');
  // fred has an INBOX, ghost (a valid SASL user) has none
  const st = openStore(site.conf, { log });
  st.createMailbox({ userid: 'cyrus', isAdmin: true, groups: [] }, 'user.fred');
  st.close();
  const auth = createAuthenticator(site.conf, log, { store: memoryStore(USERS) });
  const srv = await serveForTest(createTimsieved({ auth }), { config: site.conf, service: 'sieve', log });
  const clients: SieveClient[] = [];
  return {
    site,
    log,
    srv,
    async client(): Promise<{ c: SieveClient; greeting: string }> {
      const c = await SieveClient.open(srv.port);
      clients.push(c);
      return { c, greeting: await c.response() };
    },
    async login(): Promise<SieveClient> {
      const c = await SieveClient.open(srv.port);
      clients.push(c);
      await c.response();
      assert.equal(await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'pw')}"`), 'OK\r\n');
      return c;
    },
    async done() {
      for (const c of clients) c.close();
      await srv.stop();
      site.cleanup();
    },
  };
}

const lit = (s: string): string => `{${Buffer.byteLength(s)}+}\r\n${s}`;

test('greeting: capability block then OK, as timsieved; no STARTTLS without TLS', async () => {
  const t = await setup();
  try {
    const { greeting } = await t.client();
    const lines = greeting.split('\r\n');
    assert.match(lines[0]!, /^"IMPLEMENTATION" "Cyrus timsieved/);
    assert.equal(lines[1], '"VERSION" "1.0"');
    assert.match(lines[2]!, /^"SASL" ".*\bPLAIN\b.*"$/);
    assert.match(
      lines[3]!,
      /^"SIEVE" "encoded-character comparator-i;ascii-numeric fileinto reject ereject vacation vacation-seconds notify enotify include /,
    );
    assert.ok(lines.includes('"NOTIFY" "mailto"'));
    assert.ok(lines.includes('"MAXREDIRECTS" "5"'));
    assert.ok(lines.includes('"UNAUTHENTICATE"'));
    assert.ok(!greeting.includes('STARTTLS'));
    assert.ok(!greeting.includes('OWNER'));
    assert.equal(lines.at(-2), 'OK');
  } finally {
    await t.done();
  }
});

test('sieve_extensions limits the SIEVE capability and what scripts may require', async () => {
  const t = await setup({ sieve_extensions: 'fileinto vacation' });
  try {
    const { greeting } = await t.client();
    assert.match(
      greeting,
      /"SIEVE" "encoded-character comparator-i;ascii-numeric fileinto vacation spamtest spamtestplus virustest"/,
    );
    const c = await t.login();
    const r = await c.cmd(`CHECKSCRIPT ${lit('require "regex";\r\nkeep;\r\n')}`);
    assert.match(r, /^NO \{\d+\}\r\nline 1: Unsupported feature "regex"\r\n/);
    assert.equal(await c.cmd(`CHECKSCRIPT ${lit('require "fileinto";\r\nfileinto "x";\r\n')}`), 'OK\r\n');
  } finally {
    await t.done();
  }
});

test('AUTHENTICATE: initial response, continuation with a literal, bad password, abort', async () => {
  const t = await setup();
  try {
    const { c } = await t.client();
    assert.equal(await c.cmd('LISTSCRIPTS'), 'NO "Authenticate first"\r\n');
    assert.equal(
      await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'wrong')}"`),
      'NO "Authentication Error"\r\n',
    );
    c.send('AUTHENTICATE "PLAIN"\r\n');
    assert.equal(await c.line(), '""');
    c.send('"*"\r\n');
    assert.equal(await c.response(), 'NO "Authentication aborted"\r\n');
    c.send('AUTHENTICATE "PLAIN"\r\n');
    assert.equal(await c.line(), '""');
    const resp = plain('fred', 'pw');
    assert.equal(await c.cmd(`{${resp.length}+}\r\n${resp}`), 'OK\r\n');
    const caps = await c.cmd('CAPABILITY');
    assert.ok(caps.includes('"OWNER" "fred"\r\n"UNAUTHENTICATE"'));
    assert.ok(!caps.includes('"SASL"'));
    assert.equal(
      await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'pw')}"`),
      'NO "Already authenticated"\r\n',
    );
    assert.equal(await c.cmd('UNAUTHENTICATE'), 'OK\r\n');
    assert.equal(await c.cmd('LISTSCRIPTS'), 'NO "Authenticate first"\r\n');
  } finally {
    await t.done();
  }
});

test('a valid user without an INBOX cannot log in (as timsieved: "Authentication Error")', async () => {
  const t = await setup();
  try {
    const { c } = await t.client();
    assert.equal(
      await c.cmd(`AUTHENTICATE "PLAIN" "${plain('ghost', 'boo')}"`),
      'NO "Authentication Error"\r\n',
    );
    assert.ok(t.log.lines.some((l) => l.includes('badlogin: ghost PLAIN: Mailbox does not exist')));
    assert.equal(await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'pw')}"`), 'OK\r\n');
  } finally {
    await t.done();
  }
});

test('allowplaintext off: PLAIN is neither offered nor accepted without TLS', async () => {
  const t = await setup({ allowplaintext: 'no' });
  try {
    const { c, greeting } = await t.client();
    assert.ok(!/"SASL" "[^"]*PLAIN/.test(greeting));
    assert.equal(
      await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'pw')}"`),
      'NO "Authentication mechanism not available"\r\n',
    );
  } finally {
    await t.done();
  }
});

test('PUTSCRIPT, LISTSCRIPTS, SETACTIVE, GETSCRIPT, RENAMESCRIPT, DELETESCRIPT on the sievedir layout', async () => {
  const t = await setup();
  try {
    const c = await t.login();
    const script = 'require "fileinto";\r\nif header :contains "subject" "x" { fileinto "INBOX.x"; }\r\n';
    assert.equal(await c.cmd(`PUTSCRIPT "s1" ${lit(script)}`), 'OK\r\n');
    // {N} without '+' is accepted too
    assert.equal(await c.cmd(`PUTSCRIPT "s2" {6}\r\nkeep;\r\n`), 'OK\r\n');
    const dir = join(t.site.sievedir, 'f', 'fred');
    assert.equal(readFileSync(join(dir, 's1.script'), 'utf8'), script);
    assert.match(readFileSync(join(dir, 's1.bc'), 'utf8'), /^CYRUS-TS-SIEVE 1\n\{/);
    assert.equal(await c.cmd('LISTSCRIPTS'), '"s1"\r\n"s2"\r\nOK\r\n');
    assert.equal(await c.cmd('SETACTIVE "s1"'), 'OK\r\n');
    assert.equal(readlinkSync(join(dir, 'defaultbc')), 's1.bc');
    assert.equal(await c.cmd('LISTSCRIPTS'), '"s1" ACTIVE\r\n"s2"\r\nOK\r\n');
    assert.equal(await c.cmd('GETSCRIPT "s1"'), `{${script.length}}\r\n${script}\r\nOK\r\n`);
    assert.equal(await c.cmd('GETSCRIPT "nosuch"'), 'NO (NONEXISTENT) "Script does not exist"\r\n');
    assert.equal(await c.cmd('DELETESCRIPT "s1"'), 'NO (ACTIVE) "Active script cannot be deleted"\r\n');
    assert.equal(await c.cmd('RENAMESCRIPT "s1" "s2"'), 'NO (ALREADYEXISTS) "Script already exists"\r\n');
    assert.equal(await c.cmd('RENAMESCRIPT "nosuch" "s9"'), 'NO (NONEXISTENT) "Script does not exist"\r\n');
    assert.equal(await c.cmd('RENAMESCRIPT "s1" "main"'), 'OK\r\n');
    assert.equal(await c.cmd('LISTSCRIPTS'), '"main" ACTIVE\r\n"s2"\r\nOK\r\n');
    assert.equal(await c.cmd('SETACTIVE "nosuch"'), 'NO (NONEXISTENT) "Script does not exist"\r\n');
    assert.equal(await c.cmd('SETACTIVE ""'), 'OK\r\n');
    assert.ok(!existsSync(join(dir, 'defaultbc')));
    assert.equal(await c.cmd('DELETESCRIPT "main"'), 'OK\r\n');
    assert.equal(await c.cmd('LISTSCRIPTS'), '"s2"\r\nOK\r\n');
    assert.equal(await c.cmd('DELETESCRIPT "main"'), 'NO (NONEXISTENT) "Script does not exist"\r\n');
  } finally {
    await t.done();
  }
});

test('PUTSCRIPT / CHECKSCRIPT of a bad script: NO with the errors as a literal, nothing stored', async () => {
  const t = await setup();
  try {
    const c = await t.login();
    const bad = 'require "fileinto";\r\nif true {\r\n  fileinto "a"\r\n}\r\n';
    const r = await c.cmd(`PUTSCRIPT "bad" ${lit(bad)}`);
    const m = /^NO \{(\d+)\}\r\n([\s\S]*)\r\n$/.exec(r);
    assert.ok(m, r);
    assert.equal(Buffer.byteLength(m[2]!), Number(m[1]));
    assert.match(m[2]!, /^line 4: syntax error, expected ';'/);
    assert.equal(await c.cmd('LISTSCRIPTS'), 'OK\r\n');
    const r2 = await c.cmd(`CHECKSCRIPT ${lit('frobnicate;\r\n')}`);
    assert.match(r2, /line 1: unknown command "frobnicate"/);
    assert.equal(await c.cmd(`CHECKSCRIPT ${lit('keep;')}`), 'OK\r\n');
  } finally {
    await t.done();
  }
});

test('limits: HAVESPACE, sieve_maxscriptsize at the literal, sieve_maxscripts', async () => {
  const t = await setup({ sieve_maxscripts: '2', sieve_maxscriptsize: '1' });
  try {
    const c = await t.login();
    assert.equal(
      await c.cmd('HAVESPACE "s1" 999999999'),
      'NO (QUOTA/MAXSIZE) "Script size is too large. Max script size is 1024 bytes"\r\n',
    );
    assert.equal(await c.cmd('HAVESPACE "s1" 1024'), 'OK\r\n');
    const big = '#'.repeat(1025);
    assert.equal(
      await c.cmd(`PUTSCRIPT "big" {1025+}\r\n${big}\r\n`),
      'NO (QUOTA/MAXSIZE) "Script size is too large. Max script size is 1024 bytes"\r\n',
    );
    // the connection is still in step
    assert.equal(await c.cmd('NOOP "t1"'), 'OK (TAG "t1") "Done"\r\n');
    assert.equal(await c.cmd(`PUTSCRIPT "a" ${lit('keep;')}`), 'OK\r\n');
    assert.equal(await c.cmd(`PUTSCRIPT "b" ${lit('keep;')}`), 'OK\r\n');
    assert.equal(
      await c.cmd(`PUTSCRIPT "c" ${lit('keep;')}`),
      'NO (QUOTA/MAXSCRIPTS) "You are only allowed 2 scripts."\r\n',
    );
    assert.equal(
      await c.cmd('HAVESPACE "c" 10'),
      'NO (QUOTA/MAXSCRIPTS) "You are only allowed 2 scripts."\r\n',
    );
    // replacing an existing one is fine
    assert.equal(await c.cmd(`PUTSCRIPT "b" ${lit('discard;')}`), 'OK\r\n');
    // a huge literal ends the session
    const r = await c.cmd('PUTSCRIPT "x" {99999999999+}');
    assert.match(r, /^BYE/);
  } finally {
    await t.done();
  }
});

test('NOOP, unknown commands, bad arguments, LOGOUT', async () => {
  const t = await setup();
  try {
    const { c } = await t.client();
    assert.equal(await c.cmd('NOOP'), 'OK "Done"\r\n');
    assert.equal(await c.cmd('FROB'), 'NO "Expected a command. Got something else."\r\n');
    assert.equal(await c.cmd('"quoted"'), 'NO "Expected a command. Got something else."\r\n');
    assert.equal(await c.cmd('CAPABILITY extra'), 'NO "Wrong arguments for CAPABILITY"\r\n');
    assert.equal(await c.cmd('STARTTLS'), 'NO "STARTTLS not available"\r\n');
    assert.equal(await c.cmd('LOGOUT'), 'OK "Logout Complete"\r\n');
  } finally {
    await t.done();
  }
});

test('admin without authorization id manages global scripts', async () => {
  const t = await setup();
  try {
    const { c } = await t.client();
    assert.equal(await c.cmd(`AUTHENTICATE "PLAIN" "${plain('cyrus', 'adm')}"`), 'OK\r\n');
    assert.equal(await c.cmd(`PUTSCRIPT "g1" ${lit('keep;')}`), 'OK\r\n');
    assert.ok(existsSync(join(t.site.sievedir, 'global', 'g1.script')));
  } finally {
    await t.done();
  }
});

test('STARTTLS: OK, handshake, capabilities again (without STARTTLS), then PLAIN allowed', async () => {
  const site0 = tempSite();
  const certDir = join(site0.dir, 'certs');
  mkdirSync(certDir);
  const certs = makeTestCerts(certDir);
  const t = await setup({
    allowplaintext: 'no',
    tls_server_cert: certs.serverCert,
    tls_server_key: certs.serverKey,
  });
  try {
    const { c, greeting } = await t.client();
    assert.ok(greeting.includes('"STARTTLS"\r\n'));
    assert.equal(await c.cmd('STARTTLS'), 'OK "Begin TLS negotiation now"\r\n');
    await c.startTls(readFileSync(certs.caCert));
    const caps = await c.response();
    assert.ok(!caps.includes('STARTTLS'));
    assert.match(caps, /"SASL" "[^"]*PLAIN/);
    assert.equal(await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'pw')}"`), 'OK\r\n');
    assert.equal(await c.cmd('LISTSCRIPTS'), 'OK\r\n');
  } finally {
    await t.done();
    site0.cleanup();
  }
});

test('the registry loads timsieved; the default service uses the real sasldb and store', async () => {
  const site = tempSite();
  try {
    const sasldb = join(site.dir, 'sasldb2');
    const s2 = tempSite({
      allowplaintext: 'yes',
      sasl_pwcheck_method: 'auxprop',
      sasl_sasldb_path: sasldb,
      sievedir: site.sievedir,
    });
    const db = new SasldbStore(sasldb);
    await db.setPassword('fred', 'secret');
    db.close();
    const store = openStore(s2.conf);
    store.ensureInbox('fred');
    store.close();
    const svc = await loadService('/usr/lib/cyrus/bin/timsieved');
    const srv = await serveForTest(svc, { config: s2.conf, service: 'sieve' });
    const c = await SieveClient.open(srv.port);
    try {
      assert.match(await c.response(), /^"IMPLEMENTATION" "Cyrus timsieved/);
      assert.equal(
        await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'wrong')}"`),
        'NO "Authentication Error"\r\n',
      );
      assert.equal(await c.cmd(`AUTHENTICATE "PLAIN" "${plain('fred', 'secret')}"`), 'OK\r\n');
      assert.equal(await c.cmd(`PUTSCRIPT "x" ${lit('keep;')}`), 'OK\r\n');
      assert.ok(existsSync(join(site.sievedir, 'f', 'fred', 'x.script')));
    } finally {
      c.close();
      await srv.stop();
      s2.cleanup();
    }
  } finally {
    site.cleanup();
  }
});
