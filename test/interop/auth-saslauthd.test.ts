/**
 * Interop: our saslauthd client against Debian's real saslauthd (package sasl2-bin).
 *
 * Mechanism choice: `saslauthd -a rimap -O 127.0.0.1/<port>` — saslauthd checks each password
 * by logging in to an IMAP server. The test runs a tiny IMAP LOGIN responder on loopback that
 * checks passwords against one of our sasldb files, so the whole chain (our client → saslauthd
 * → IMAP LOGIN → our sasldb) runs with no change outside a temporary directory: `-a sasldb`
 * would read the system's /etc/sasldb2 and `-a shadow`/`pam` need system users. The socket
 * directory is given with `-m`; saslauthd runs in the foreground (`-d`) and is killed by pid.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { SasldbStore, SaslauthdStore, saslauthdRequest } from '../../src/auth/passwords.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { testConf } from '../../src/auth/test-conf.js';
import { memoryLogger } from '../../src/log/logger.js';

const SASLAUTHD = '/usr/sbin/saslauthd';
let dir: string;
let imap: net.Server;
let daemon: ChildProcess | undefined;
let sasldb: SasldbStore;
const logins: string[] = [];

/** IMAP quoted string or atom at `s[i]`: [value, next index] */
function astring(s: string, i: number): [string, number] {
  if (s[i] === '"') {
    let out = '';
    for (let j = i + 1; j < s.length; j++) {
      if (s[j] === '\\') out += s[++j];
      else if (s[j] === '"') return [out, j + 1];
      else out += s[j];
    }
    throw new Error('unterminated quoted string');
  }
  const end = s.indexOf(' ', i);
  return end < 0 ? [s.slice(i), s.length] : [s.slice(i, end), end];
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'saslauthd-'));
  sasldb = new SasldbStore(join(dir, 'sasldb'));
  await sasldb.setPassword('user1', 'pa ss"wd');
  imap = net.createServer((sock) => {
    sock.write('* OK test IMAP ready\r\n');
    let buf = '';
    sock.on('data', async (d: Buffer) => {
      buf += d.toString('utf8');
      let nl;
      while ((nl = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const [tag, cmd] = line.split(' ', 2);
        if (cmd?.toUpperCase() === 'LOGIN') {
          const [user, i] = astring(line, tag.length + 7);
          const [pass] = astring(line, i + 1);
          logins.push(user);
          const ok = await sasldb.verify(user, pass);
          sock.write(ok ? `${tag} OK logged in\r\n` : `${tag} NO login failed\r\n`);
        } else if (cmd?.toUpperCase() === 'LOGOUT') {
          sock.end(`* BYE\r\n${tag} OK bye\r\n`);
        } else sock.write(`${tag} BAD what\r\n`);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => imap.listen(0, '127.0.0.1', r));
  const port = (imap.address() as net.AddressInfo).port;
  daemon = spawn(SASLAUTHD, ['-a', 'rimap', '-O', `127.0.0.1/${port}`, '-m', dir, '-n', '0', '-d'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // its own process group: on SIGTERM saslauthd signals its whole group, which would
    // otherwise include this test process
    detached: true,
  });
  daemon.stderr?.resume();
  for (let i = 0; i < 100 && !existsSync(join(dir, 'mux')); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(join(dir, 'mux')), 'saslauthd made its socket');
});

after(async () => {
  if (daemon?.pid && daemon.exitCode === null) {
    const gone = new Promise((r) => daemon!.once('exit', r));
    process.kill(daemon.pid, 'SIGTERM');
    await gone;
  }
  await new Promise((r) => imap.close(r));
  sasldb.close();
  rmSync(dir, { recursive: true, force: true });
});

test('saslauthd says OK for the right password and NO otherwise', async () => {
  const mux = join(dir, 'mux');
  const store = new SaslauthdStore(mux);
  assert.equal(await store.verify('user1', 'pa ss"wd', 'imap'), true);
  assert.equal(await store.verify('user1', 'wrong', 'imap'), false);
  assert.equal(await store.verify('nobody', 'x', 'imap'), false);
  assert.match(
    await saslauthdRequest(mux, { login: 'user1', password: 'wrong', service: 'imap', realm: '' }),
    /^NO/,
  );
  assert.ok(logins.includes('user1'));
  assert.equal(await store.scram(), null);
});

test('the authenticator uses saslauthd with sasl_pwcheck_method: saslauthd', async () => {
  const log = memoryLogger();
  const conf = testConf({
    sasl_pwcheck_method: 'saslauthd',
    sasl_saslauthd_path: join(dir, 'mux'),
    allowplaintext: 'yes',
  });
  const auth = createAuthenticator(conf, log);
  assert.deepEqual(auth.mechanisms({ secure: false }), ['PLAIN', 'LOGIN']);
  assert.deepEqual(await auth.checkPassword('User1', 'pa ss"wd', { service: 'imap', secure: false }), {
    userid: 'user1',
    isAdmin: false,
    groups: [],
  });
  assert.equal(await auth.checkPassword('user1', 'nope', { service: 'imap', secure: false }), null);
  const ex = auth.start('PLAIN', { service: 'imap', secure: false, serverName: 'x' });
  assert.deepEqual(await ex.step(Buffer.from('\0user1\0pa ss"wd')), {
    done: { authcid: 'user1', authzid: '' },
  });
});

test('an unreachable saslauthd fails closed and is logged', async () => {
  const errors: string[] = [];
  const store = new SaslauthdStore(join(dir, 'no-such-socket'), (m) => errors.push(m));
  assert.equal(await store.verify('user1', 'pa ss"wd', 'imap'), false);
  assert.equal(errors.length, 1);
});
