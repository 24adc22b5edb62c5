import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './api.js';
import { lookupServicePort, resolveListen, SUITE_PORTS } from './services.js';

const SERVICES = `# test services
imap2\t\t143/tcp\t\timap\t\t# Interim Mail Access P 2 and 4
pop3\t\t110/tcp\t\tpop-3
imaps\t\t993/tcp
sieve\t\t4190/tcp
fud\t\t4201/udp
`;

function withServices(fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'services-'));
  try {
    const file = join(dir, 'services');
    writeFileSync(file, SERVICES);
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('lookupServicePort: names, aliases, proto', () => {
  withServices((f) => {
    assert.equal(lookupServicePort('imap2', 'tcp', f), 143);
    assert.equal(lookupServicePort('imap', 'tcp', f), 143);
    assert.equal(lookupServicePort('pop-3', 'tcp', f), 110);
    assert.equal(lookupServicePort('fud', 'udp', f), 4201);
    assert.equal(lookupServicePort('fud', 'tcp', f), undefined);
    assert.equal(lookupServicePort('lmtp', 'tcp', f), undefined);
  });
});

test('SUITE_PORTS are the documented ports', () => {
  assert.deepEqual(SUITE_PORTS, {
    pop3: 110,
    nntp: 119,
    imap: 143,
    nntps: 563,
    imaps: 993,
    pop3s: 995,
    lmtp: 2003,
    smmap: 2004,
    csync: 2005,
    mupdate: 3905,
    sieve: 4190,
  });
});

test('listen forms: port, name, host:port, [v6]:port, [addr], /unix/path', () => {
  withServices((f) => {
    assert.deepEqual(resolveListen('143', 'tcp', f), [{ kind: 'tcp', host: null, port: 143, family: 0 }]);
    assert.deepEqual(resolveListen('imap', 'tcp', f), [{ kind: 'tcp', host: null, port: 143, family: 0 }]);
    assert.deepEqual(resolveListen('imaps', 'tcp4', f), [{ kind: 'tcp', host: null, port: 993, family: 4 }]);
    assert.deepEqual(resolveListen('127.0.0.1:1143', 'tcp', f), [
      { kind: 'tcp', host: '127.0.0.1', port: 1143, family: 4 },
    ]);
    assert.deepEqual(resolveListen('localhost:sieve', 'tcp', f), [
      { kind: 'tcp', host: 'localhost', port: 4190, family: 0 },
    ]);
    assert.deepEqual(resolveListen('[::1]:4190', 'tcp', f), [
      { kind: 'tcp', host: '::1', port: 4190, family: 6 },
    ]);
    assert.deepEqual(resolveListen('[::]:imap', 'tcp6', f), [
      { kind: 'tcp', host: '::', port: 143, family: 6 },
    ]);
    assert.deepEqual(resolveListen('[192.0.2.1]:143', 'tcp', f), [
      { kind: 'tcp', host: '192.0.2.1', port: 143, family: 4 },
    ]);
    assert.deepEqual(resolveListen('[::1]', 'tcp', f), [{ kind: 'tcp', host: '::1', port: 0, family: 6 }]);
    assert.deepEqual(resolveListen('/run/cyrus/socket/lmtp', 'tcp', f), [
      { kind: 'unix', path: '/run/cyrus/socket/lmtp' },
    ]);
    assert.deepEqual(resolveListen('var/lib/socket/lmtp', 'tcp', f), [
      { kind: 'unix', path: 'var/lib/socket/lmtp' },
    ]);
    assert.deepEqual(resolveListen('fud', 'udp', f), [{ kind: 'tcp', host: null, port: 4201, family: 0 }]);
  });
});

test('an unknown service name says which /etc/services line to add', () => {
  withServices((f) => {
    assert.throws(
      () => resolveListen('lmtp', 'tcp', f),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(
          e.message,
          /service name 'lmtp' is missing from .*services; add the line: {2}lmtp 2003\/tcp/,
        );
        return true;
      },
    );
    assert.throws(() => resolveListen('localhost:mupdate', 'tcp', f), /add the line: {2}mupdate 3905\/tcp/);
    assert.throws(() => resolveListen('frobnicate', 'tcp', f), /frobnicate <port>\/tcp \(choose the port\)/);
  });
});

test('malformed listen values are ConfigErrors', () => {
  withServices((f) => {
    for (const bad of ['[::1', '[::1]143', '[nothost]:143', ':143', 'host:', '70000', '[::1]:143x']) {
      assert.throws(() => resolveListen(bad, 'tcp', f), ConfigError, bad);
    }
    assert.throws(() => resolveListen('[::1]:143', 'tcp4', f), /IPv6 but proto=tcp4/);
  });
});
