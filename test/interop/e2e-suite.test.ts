/**
 * End to end: the whole suite under the real cyr_master (test/interop/lib/suite.ts) — every
 * service greets on its port, a user made with cyr_saslpasswd logs in, and SIGTERM leaves no
 * process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { startSuite } from './lib/suite.js';
import { descendants, alive } from './lib/proc.js';
import { imapList } from './lib/clients.js';

function greeting(target: number | string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = typeof target === 'number' ? connect(target, '127.0.0.1') : connect(target);
    let got = '';
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no greeting from ${target}`));
    }, 10_000);
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\n')) {
        clearTimeout(t);
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}

test('all services greet, a cyr_saslpasswd user logs in, SIGTERM leaves no process', async () => {
  const suite = await startSuite({ services: ['imap', 'pop3', 'lmtp', 'lmtpunix', 'sieve'] });
  let tree: ReturnType<typeof descendants> = [];
  try {
    assert.match(await greeting(suite.ports.imap!), /^\* OK/);
    assert.match(await greeting(suite.ports.pop3!), /^\+OK/);
    assert.match(await greeting(suite.ports.lmtp!), /^220 /);
    assert.match(await greeting(suite.lmtpSocket), /^220 /);
    assert.match(await greeting(suite.ports.sieve!), /^"IMPLEMENTATION"/);
    await suite.addUser('carol', 'c4rol pass');
    const list = await imapList(suite.ports.imap!, 'carol', 'c4rol pass');
    assert.ok(
      list.some((l) => /"INBOX"|\sINBOX$/.test(l)),
      `INBOX autocreated at login: ${list.join(' | ')}`,
    );
    tree = descendants(suite.pid);
    assert.ok(tree.length >= 5, `master plus a worker per service: ${tree.length}`);
  } finally {
    await suite.stop();
  }
  assert.deepEqual(
    tree.filter(alive).map((p) => p.pid),
    [],
  );
});
