/**
 * End to end with Postfix's socketmap client (`postmap -q`, package postfix) against smmapd
 * under cyr_master: the recipient check a Postfix front end makes before accepting mail for
 * Cyrus. A user with an INBOX is found (also with +detail and @domain), an unknown one is not.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run } from './lib/run.js';
import { imapList } from './lib/clients.js';

let suite: Suite;
let pfDir: string;

before(async () => {
  suite = await startSuite({ services: ['imap', 'smmap'] });
  await suite.addUser('known', 'known-pw');
  await imapList(suite.ports.imap!, 'known', 'known-pw'); // first login creates the INBOX
  await suite.addUser('nologin', 'nologin-pw'); // password only, no INBOX yet
  // postmap needs a main.cf; a private config directory keeps /etc/postfix out of it
  pfDir = join(suite.dir, 'postfix');
  mkdirSync(pfDir);
  writeFileSync(join(pfDir, 'main.cf'), 'compatibility_level = 3.6\n');
});
after(async () => {
  await suite.stop();
});

/** postmap -q key socketmap:…; exit 0 = found (value printed), 1 = not found, else error */
const lookup = (key: string): ReturnType<typeof run> =>
  run('postmap', ['-c', pfDir, '-q', key, `socketmap:inet:127.0.0.1:${suite.ports.smmap}:cyrus`]);

test('postmap -q finds a user with an INBOX, also as user+detail and user@domain', async () => {
  for (const key of ['known', 'known+lists', 'known@localhost']) {
    const r = await lookup(key);
    assert.equal(r.code, 0, `${key}: ${r.err}`);
    assert.equal(r.out.trim(), key);
  }
});

test('postmap -q does not find an unknown user, nor one without an INBOX', async () => {
  for (const key of ['stranger', 'nologin']) {
    const r = await lookup(key);
    assert.equal(r.code, 1, `${key}: exit ${r.code} out=${r.out} err=${r.err}`);
    assert.equal(r.out, '');
    assert.equal(r.err, '', 'NOTFOUND is not an error');
  }
});
