/**
 * Interop: Cyrus's own SASL client (imtest from cyrus-clients, built on Cyrus SASL 2.1.28 and
 * OpenSSL) authenticates against our mechanisms: SCRAM-SHA-1/256, SCRAM-SHA-256-PLUS with
 * channel binding over TLS, CRAM-MD5, PLAIN and LOGIN after STARTTLS, and implicit TLS.
 *
 * The IMAP side is a minimal responder written here (greeting, CAPABILITY, STARTTLS,
 * AUTHENTICATE with SASL-IR, LOGIN, LOGOUT) on top of src/auth and src/net — just enough
 * for imtest — so this tests the auth plumbing, not the real imapd.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Duplex } from 'node:stream';
import { createAuthenticator } from '../../src/auth/authenticator.js';
import { SaslFailure } from '../../src/auth/api.js';
import { SasldbStore } from '../../src/auth/passwords.js';
import {
  decodeInitialResponse,
  decodeResponse,
  encodeChallenge,
  runExchange,
} from '../../src/auth/sasl/wire.js';
import { LineReader } from '../../src/net/lines.js';
import { channelBindings, externalIdentity, startTls } from '../../src/net/tls.js';
import { makeTestCerts } from '../../src/net/test-certs.js';
import { parseImapdConf } from '../../src/config/imapd-conf.js';
import { memoryLogger } from '../../src/log/logger.js';
import type { ImapdConf } from '../../src/config/api.js';

const IMTEST = '/usr/lib/cyrus/bin/imtest';
let dir: string;
let conf: ImapdConf;
const log = memoryLogger();
const logins: string[] = [];
let clientName = '';

/** One IMAP connection: only what imtest needs to authenticate. */
async function session(sock: net.Socket, implicitTls: boolean): Promise<void> {
  const auth = createAuthenticator(conf, log);
  let stream: Duplex = sock;
  let tls: TLSSocket | null = null;
  if (implicitTls) {
    tls = await startTls(sock, conf);
    stream = tls;
  }
  stream.on('error', () => {});
  const r = new LineReader(stream, { maxLine: 8192 });
  const caps = (): string => {
    const secure = tls !== null;
    const m = auth
      .mechanisms({ secure, hasExternal: tls ? !!externalIdentity(tls) : false, hasChannelBinding: secure })
      .map((x) => `AUTH=${x}`);
    return [
      'IMAP4rev1',
      ...(secure ? [] : ['STARTTLS']),
      ...m,
      'SASL-IR',
      ...(auth.plaintextAllowed(secure) ? [] : ['LOGINDISABLED']),
    ].join(' ');
  };
  const send = (s: string): boolean => stream.write(s + '\r\n');
  send(`* OK [CAPABILITY ${caps()}] test server ready`);
  for (;;) {
    const l = await r.readLine();
    if (l === null) return;
    if (!('line' in l)) continue;
    const words = l.line.toString('utf8').split(' ');
    const tag = words[0];
    const cmd = (words[1] ?? '').toUpperCase();
    if (cmd === 'CAPABILITY') {
      send(`* CAPABILITY ${caps()}`);
      send(`${tag} OK done`);
    } else if (cmd === 'STARTTLS' && !tls) {
      send(`${tag} OK begin TLS`);
      tls = await startTls(r.detach(), conf);
      tls.on('error', () => {});
      stream = tls;
      r.attach(tls);
    } else if (cmd === 'AUTHENTICATE') {
      try {
        const ex = auth.start(words[2] ?? '', {
          service: 'imap',
          secure: tls !== null,
          serverName: 'localhost',
          remote: 'test',
          channelBindings: tls ? channelBindings(tls) : undefined,
          externalId: tls ? externalIdentity(tls) : undefined,
        });
        const ok = await runExchange(ex, {
          initial: words[3] !== undefined ? decodeInitialResponse(words[3]) : null,
          challenge: async (d) => {
            send(`+ ${encodeChallenge(d)}`);
            const resp = await r.readLine();
            if (!resp || !('line' in resp)) throw new SaslFailure('no response', 'aborted');
            return decodeResponse(resp.line);
          },
        });
        const who = auth.identityFor(ok.authcid, ok.authzid);
        logins.push(`${words[2]?.toUpperCase()} ${who.userid}`);
        send(`${tag} OK Success`);
      } catch (e) {
        send(`${tag} NO ${e instanceof SaslFailure ? e.reason : 'error'}`);
      }
    } else if (cmd === 'LOGIN') {
      const who = await auth.checkPassword(words[2] ?? '', words[3] ?? '', {
        service: 'imap',
        secure: tls !== null,
      });
      if (who) logins.push(`LOGIN ${who.userid}`);
      send(who ? `${tag} OK logged in` : `${tag} NO failed`);
    } else if (cmd === 'LOGOUT') {
      send('* BYE');
      send(`${tag} OK bye`);
      stream.end();
      return;
    } else {
      send(`${tag} BAD unknown`);
    }
  }
}

async function withServer<T>(implicitTls: boolean, fn: (port: number) => Promise<T>): Promise<T> {
  const socks = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    socks.add(s);
    s.on('error', () => {});
    session(s, implicitTls).catch(() => s.destroy());
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  try {
    return await fn((srv.address() as net.AddressInfo).port);
  } finally {
    for (const s of socks) s.destroy();
    await new Promise((res) => srv.close(res));
  }
}

function imtest(args: string[]): Promise<{ code: number | null; out: string }> {
  const script = join(dir, 'logout.txt');
  writeFileSync(script, 'z LOGOUT\r\n');
  return new Promise((resolve) => {
    const p = spawn(IMTEST, ['-f', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (out += d));
    const timer = setTimeout(() => p.kill('SIGTERM'), 10_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'imtest-'));
  const certs = makeTestCerts(dir);
  // imtest verifies nothing by default, so the test CA need not be installed system-wide
  conf = parseImapdConf(
    [
      `configdirectory: ${dir}`,
      `sasl_sasldb_path: ${join(dir, 'sasldb')}`,
      'sasl_mech_list: EXTERNAL SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 PLAIN LOGIN',
      `tls_server_cert: ${certs.serverCert}`,
      `tls_server_key: ${certs.serverKey}`,
      `tls_client_ca_file: ${certs.caCert}`,
      'failedloginpause: 0',
    ].join('\n') + '\n',
    { path: join(dir, 'imapd.conf'), service: 'imap', warn: () => {} },
  );
  // imtest -t takes one file holding the client certificate and its key
  writeFileSync(
    join(dir, 'client-combo.pem'),
    readFileSync(certs.clientCert) + readFileSync(certs.clientKey, 'utf8'),
  );
  clientName = certs.clientName;
  const db = new SasldbStore(join(dir, 'sasldb'));
  await db.setPassword('user1', 'secret1', { keepCleartext: true });
  db.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const base = (port: number): string[] => ['-p', String(port), '-a', 'user1', '-w', 'secret1'];

test('imtest is installed', () => assert.ok(existsSync(IMTEST), `${IMTEST} (package cyrus-clients)`));

for (const mech of ['SCRAM-SHA-256', 'SCRAM-SHA-1', 'CRAM-MD5']) {
  test(`imtest authenticates with ${mech} without TLS`, async () => {
    await withServer(false, async (port) => {
      const r = await imtest([...base(port), '-t', '', '-m', mech, '127.0.0.1']);
      assert.match(r.out, /Authenticated/, r.out);
      assert.ok(logins.includes(`${mech} user1`));
    });
  });
}

test('a wrong password fails with SCRAM', async () => {
  await withServer(false, async (port) => {
    const r = await imtest([
      '-p',
      String(port),
      '-a',
      'user1',
      '-w',
      'wrong',
      '-t',
      '',
      '-m',
      'SCRAM-SHA-256',
      '127.0.0.1',
    ]);
    assert.doesNotMatch(r.out, /Authenticated\./, r.out);
  });
});

test('PLAIN is refused before TLS and works after STARTTLS', async () => {
  await withServer(false, async (port) => {
    const no = await imtest([...base(port), '-m', 'PLAIN', '127.0.0.1']);
    assert.doesNotMatch(no.out, /Authenticated\./, no.out);
  });
  await withServer(false, async (port) => {
    // -t "" with STARTTLS advertised: imtest negotiates TLS first
    const r = await imtest([...base(port), '-t', '', '-m', 'PLAIN', '127.0.0.1']);
    assert.match(r.out, /TLS connection established/, r.out);
    assert.match(r.out, /Authenticated/, r.out);
  });
});

test('implicit TLS (imaps) with PLAIN and SCRAM-SHA-256-PLUS', async () => {
  await withServer(true, async (port) => {
    const r = await imtest([...base(port), '-s', '-m', 'PLAIN', '127.0.0.1']);
    assert.match(r.out, /Authenticated/, r.out);
  });
  await withServer(true, async (port) => {
    const r = await imtest([...base(port), '-s', '-m', 'SCRAM-SHA-256-PLUS', '127.0.0.1']);
    // the client-first message starts "p=tls-" (base64 "cD10bHMt"): channel binding in use
    assert.match(r.out, /AUTHENTICATE SCRAM-SHA-256\S* cD10bHMt/, r.out);
    assert.match(r.out, /Authenticated/, r.out);
  });
});

test('a client certificate over STARTTLS logs in with EXTERNAL', async () => {
  await withServer(false, async (port) => {
    const r = await imtest([
      '-p',
      String(port),
      '-t',
      join(dir, 'client-combo.pem'),
      '-m',
      'EXTERNAL',
      '127.0.0.1',
    ]);
    assert.match(r.out, /TLS connection established/, r.out);
    assert.match(r.out, /Authenticated/, r.out);
    assert.ok(logins.includes(`EXTERNAL ${clientName}`), logins.join(', '));
  });
});
