import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../log/logger.js';
import { ALL_COMMANDS, COMMANDS } from './commands/index.js';
import { RawClient, startTestImapd } from './test-helpers.js';
import { capabilities, POST_AUTH } from './capabilities.js';

test('registry: every command module is registered under each of its names, once', () => {
  const seen = new Map<string, number>();
  for (const c of ALL_COMMANDS) for (const n of c.names) seen.set(n, (seen.get(n) ?? 0) + 1);
  for (const [n, k] of seen) {
    assert.equal(k, 1, `${n} registered ${k} times`);
    assert.ok(COMMANDS.get(n), n);
  }
  assert.equal(COMMANDS.size, seen.size);
});

test('msg/motd is sent as an ALERT after the greeting; msg/shutdown refuses the connection', async () => {
  const srv = await startTestImapd({ fred: 'secret' });
  try {
    mkdirSync(join(srv.conf.configDirectory, 'msg'), { recursive: true });
    writeFileSync(join(srv.conf.configDirectory, 'msg', 'motd'), 'Maintenance at noon\nsecond line\n');
    const c = await RawClient.connect(srv.port);
    assert.match(await c.line(), /^\* OK \[CAPABILITY /);
    assert.equal(await c.line(), '* OK [ALERT] Maintenance at noon');
    c.close();
    writeFileSync(join(srv.conf.configDirectory, 'msg', 'shutdown'), 'Down for upgrade\n');
    const d = await RawClient.connect(srv.port);
    assert.equal(await d.line(), '* BYE Down for upgrade');
    d.close();
  } finally {
    await srv.stop();
  }
});

test('log lines carry the session id and never the password', async () => {
  const srv = await startTestImapd({ fred: 'Sup3rSecret' });
  try {
    const c = await RawClient.connect(srv.port);
    await c.line();
    await c.cmd('LOGIN fred wrongPassw0rd');
    await c.cmd(`AUTHENTICATE PLAIN ${Buffer.from('\0fred\0Sup3rSecret').toString('base64')}`);
    await c.cmd('LOGOUT');
    c.close();
    await new Promise((r) => setTimeout(r, 50));
    const lines = (srv.server.ctx.log as ReturnType<typeof memoryLogger>).lines;
    const mine = lines.filter((l) => /login|badlogin/.test(l));
    assert.ok(mine.length >= 2, lines.join('\n'));
    for (const l of mine) assert.match(l, /session=[0-9a-f]{12} /);
    for (const l of lines) {
      assert.doesNotMatch(l, /Sup3rSecret|wrongPassw0rd/);
      assert.doesNotMatch(l, new RegExp(Buffer.from('\0fred\0Sup3rSecret').toString('base64').slice(0, 12)));
    }
  } finally {
    await srv.stop();
  }
});

test('capabilities: suppress_capabilities, literalminus, allowplaintext → LOGINDISABLED', async () => {
  const srv = await startTestImapd(
    { fred: 'secret' },
    { suppress_capabilities: 'MOVE ESEARCH', literalminus: 'yes' },
  );
  try {
    const caps = capabilities(srv.conf, {
      authenticated: true,
      secure: false,
      tlsAvailable: false,
      mechanisms: [],
      plaintextAllowed: true,
    });
    assert.ok(!caps.includes('MOVE') && !caps.includes('ESEARCH'));
    assert.ok(caps.includes('LITERAL-') && !caps.includes('LITERAL+'));
    for (const c of POST_AUTH) if (c !== 'MOVE' && c !== 'ESEARCH') assert.ok(caps.includes(c), c);
    const pre = capabilities(srv.conf, {
      authenticated: false,
      secure: false,
      tlsAvailable: false,
      mechanisms: ['SCRAM-SHA-256'],
      plaintextAllowed: false,
    });
    assert.deepEqual(pre, [
      'IMAP4rev1',
      'IMAP4rev2',
      'LITERAL-',
      'ID',
      'ENABLE',
      'LOGINDISABLED',
      'AUTH=SCRAM-SHA-256',
      'SASL-IR',
    ]);
  } finally {
    await srv.stop();
  }
});

test('pipelined commands are answered in order', async () => {
  const srv = await startTestImapd({ fred: 'secret' });
  try {
    const c = await RawClient.connect(srv.port);
    await c.line();
    c.write('p1 LOGIN fred secret\r\np2 SELECT INBOX\r\np3 NOOP\r\np4 BOGUS\r\np5 LOGOUT\r\n');
    const all: string[] = [];
    for (;;) {
      const l = await c.line();
      all.push(l);
      if (l.startsWith('p5 ')) break;
    }
    const tagged = all.filter((l) => /^p\d /.test(l)).map((l) => l.slice(0, 5));
    assert.deepEqual(tagged, ['p1 OK', 'p2 OK', 'p3 OK', 'p4 BA', 'p5 OK']);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('UNAUTHENTICATE returns to the not-authenticated state; another user can log in', async () => {
  const srv = await startTestImapd({ fred: 'secret', bob: 'bobpw' });
  try {
    const c = await RawClient.connect(srv.port);
    await c.login();
    await c.cmd('SELECT INBOX');
    assert.equal((await c.cmd('UNAUTHENTICATE')).tagged, 'OK Completed');
    assert.equal((await c.cmd('SELECT INBOX')).tagged, 'BAD Please login first');
    assert.match((await c.cmd('CAPABILITY')).lines[0]!, /AUTH=PLAIN/);
    assert.match((await c.cmd('LOGIN bob bobpw')).tagged, /^OK /);
    c.close();
  } finally {
    await srv.stop();
  }
});

test('imapd -p 2: an external security layer allows plaintext logins and hides STARTTLS', async () => {
  const srv = await startTestImapd({ fred: 'secret' }, { allowplaintext: 'no' }, ['-p', '2']);
  try {
    const c = await RawClient.connect(srv.port);
    const g = await c.line();
    assert.doesNotMatch(g, /LOGINDISABLED|STARTTLS/);
    assert.match(g, /AUTH=PLAIN/);
    assert.match((await c.cmd('LOGIN fred secret')).tagged, /^OK /);
    c.close();
  } finally {
    await srv.stop();
  }
});
