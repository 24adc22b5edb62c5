/**
 * Interop (issue #8): real ManageSieve clients against our timsieved on a loopback port.
 * - sieve-connect (Debian `sieve-connect`): STARTTLS with certificate verification, then
 *   upload, activate, list, download (byte-identical), check, a refused bad script, delete.
 * - sivtest (Debian `cyrus-clients`, Cyrus's own test client): SASL PLAIN and SCRAM-SHA-256
 *   (challenges as literals, final server data in OK (SASL ...)), then raw commands.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveForTest, type TestServer } from '../../src/services/harness.js';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { memoryStore } from '../../src/auth/test-store.js';
import { memoryLogger } from '../../src/log/logger.js';
import { makeTestCerts, type TestCerts } from '../../src/net/test-certs.js';
import { tempSite, type Site } from '../../src/sieve/test-helpers.js';
import { createTimsieved } from '../../src/protocols/managesieve/service.js';
import { openStore } from '../../src/store/index.js';

const SIVTEST = '/usr/lib/cyrus/bin/sivtest';
let site: Site;
let srv: TestServer;
let certs: TestCerts;

before(async () => {
  site = tempSite({ allowplaintext: 'no' });
  const cdir = join(site.dir, 'certs');
  mkdirSync(cdir);
  certs = makeTestCerts(cdir);
  // same site, now with TLS configured
  const tls = tempSite({
    allowplaintext: 'no',
    tls_server_cert: certs.serverCert,
    tls_server_key: certs.serverKey,
    sievedir: site.sievedir,
  });
  site.cleanup = ((orig, other) => () => {
    other.cleanup();
    orig();
  })(site.cleanup, tls);
  const log = memoryLogger('sieve');
  const st = openStore(tls.conf, { log });
  st.createMailbox({ userid: 'cyrus', isAdmin: true, groups: [] }, 'user.fred');
  st.close();
  const auth = createAuthenticator(tls.conf, log, { store: memoryStore({ fred: { password: 'secret' } }) });
  srv = await serveForTest(createTimsieved({ auth }), { config: tls.conf, service: 'sieve', log });
});

after(async () => {
  await srv.stop();
  site.cleanup();
});

function run(
  cmd: string,
  args: string[],
  opts: { stdin?: (w: (s: string) => void) => Promise<void>; fd3?: string } = {},
) {
  return new Promise<{ code: number | null; out: string }>((resolve) => {
    const stdio: ('pipe' | 'ignore')[] = ['pipe', 'pipe', 'pipe'];
    if (opts.fd3 !== undefined) stdio.push('pipe');
    const p = spawn(cmd, args, { stdio });
    let out = '';
    p.stdout!.on('data', (d: Buffer) => (out += d));
    p.stderr!.on('data', (d: Buffer) => (out += d));
    const killer = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, out });
    });
    if (opts.fd3 !== undefined) {
      const s = p.stdio[3] as NodeJS.WritableStream;
      s.end(opts.fd3 + '\n');
    }
    if (opts.stdin) void opts.stdin((s) => p.stdin!.write(s)).then(() => p.stdin!.end());
    else p.stdin!.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sieveConnect(args: string[]) {
  return run(
    'sieve-connect',
    [
      '-s',
      '127.0.0.1',
      '-p',
      String(srv.port),
      '-u',
      'fred',
      '--passwordfd',
      '3',
      '--tlscafile',
      certs.caCert,
      '--tlshostname',
      'localhost',
      ...args,
    ],
    { fd3: 'secret' },
  );
}

test('sieve-connect over STARTTLS: upload, activate, list, download, check, delete', async () => {
  const local = join(site.dir, 'vacation.siv');
  const script =
    'require ["fileinto", "vacation"];\n# a comment\nif header :contains "subject" "[list]" { fileinto "INBOX.lists"; }\nvacation :days 3 "away";\n';
  writeFileSync(local, script);

  let r = await sieveConnect(['--upload', '--localsieve', local, '--remotesieve', 'holiday']);
  assert.equal(r.code, 0, r.out);
  assert.equal(readFileSync(join(site.sievedir, 'f', 'fred', 'holiday.script'), 'utf8'), script);

  r = await sieveConnect(['--activate', '--remotesieve', 'holiday']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(['--list']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /"holiday" ACTIVE/);

  const back = join(site.dir, 'back.siv');
  r = await sieveConnect(['--download', '--remotesieve', 'holiday', '--localsieve', back]);
  assert.equal(r.code, 0, r.out);
  assert.equal(readFileSync(back, 'utf8'), script);

  r = await sieveConnect(['--checkscript', '--localsieve', local]);
  assert.equal(r.code, 0, r.out);

  const bad = join(site.dir, 'bad.siv');
  writeFileSync(bad, 'require "fileinto";\nfileinto "x"\n');
  r = await sieveConnect(['--upload', '--localsieve', bad, '--remotesieve', 'bad']);
  assert.notEqual(r.code, 0);
  assert.match(r.out, /line 3: syntax error/);
  assert.equal(existsSync(join(site.sievedir, 'f', 'fred', 'bad.script')), false);

  r = await sieveConnect(['--delete', '--remotesieve', 'holiday']);
  assert.notEqual(r.code, 0, 'the active script cannot be deleted');
  r = await sieveConnect(['--deactivate']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(['--delete', '--remotesieve', 'holiday']);
  assert.equal(r.code, 0, r.out);
  r = await sieveConnect(['--list']);
  assert.doesNotMatch(r.out, /holiday/);
});

async function sivtest(mech: string, commands: string[]) {
  // sivtest negotiates TLS only with -t; without TLS, PLAIN is not offered (allowplaintext: no)
  return run(
    SIVTEST,
    ['-t', '', '-a', 'fred', '-u', 'fred', '-w', 'secret', '-m', mech, '-p', String(srv.port), '127.0.0.1'],
    {
      stdin: async (w) => {
        await sleep(800);
        for (const c of commands) {
          w(c);
          await sleep(200);
        }
      },
    },
  );
}

test('sivtest: SCRAM-SHA-256 and PLAIN over STARTTLS, then PUTSCRIPT / LISTSCRIPTS / GETSCRIPT', async () => {
  const script = 'keep;\r\n';
  let r = await sivtest('SCRAM-SHA-256', [
    `PUTSCRIPT "viasivtest" {${script.length}+}\r\n${script}\r\n`,
    'SETACTIVE "viasivtest"\r\n',
    'LISTSCRIPTS\r\n',
    'GETSCRIPT "viasivtest"\r\n',
    'LOGOUT\r\n',
  ]);
  assert.match(r.out, /S: OK \(SASL "[A-Za-z0-9+/=]+"\)/, r.out);
  assert.match(r.out, /Authenticated\./);
  assert.match(r.out, /"viasivtest" ACTIVE/);
  assert.match(r.out, /\{7\}\r?\nkeep;/);
  assert.match(r.out, /OK "Logout Complete"/);

  r = await sivtest('PLAIN', ['LISTSCRIPTS\r\n', 'LOGOUT\r\n']);
  assert.match(r.out, /Authenticated\./, r.out);
  assert.match(r.out, /"viasivtest" ACTIVE/);
});
