import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SaslFailure, type SaslExchange } from '../api.js';
import { memoryStore } from '../test-store.js';
import { H, HMAC, scramSecret } from '../secrets.js';
import type { MechBackend } from './common.js';
import { plain, parsePlain } from './plain.js';
import { login } from './login.js';
import { cramMd5 } from './cram-md5.js';
import { scram, decodeSaslname, encodeSaslname, parseClientFirst } from './scram.js';
import { external } from './external.js';
import { anonymous } from './anonymous.js';

const B = (s: string): Buffer => Buffer.from(s, 'utf8');

function backend(users: Parameters<typeof memoryStore>[0], nonce?: string): MechBackend {
  const st = memoryStore(users);
  return {
    canon: (r) => (r === '' || /\s/.test(r) ? null : r.toLowerCase()),
    verify: (u, p) => st.verify(u, p, 'imap'),
    scram: (u, h) => st.scram(u, h),
    cleartext: (u) => st.cleartext(u),
    secret: Buffer.alloc(32, 7),
    nonce: nonce === undefined ? undefined : () => nonce,
  };
}

async function fails(p: Promise<unknown>, reason: SaslFailure['reason']): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof SaslFailure && e.reason === reason);
}

test('PLAIN: RFC 4616 message forms', async () => {
  const be = backend({ tim: { password: 'tanstaaftanstaaf' } });
  assert.deepEqual(await plain(be).step(B('\0Tim\0tanstaaftanstaaf')), {
    done: { authcid: 'tim', authzid: '' },
  });
  assert.deepEqual(await plain(be).step(B('Ursel\0tim\0tanstaaftanstaaf')), {
    done: { authcid: 'tim', authzid: 'ursel' },
  });
  // no initial response: empty challenge first
  const ex = plain(be);
  assert.deepEqual(await ex.step(Buffer.alloc(0)), { challenge: Buffer.alloc(0) });
  assert.ok('done' in (await ex.step(B('\0tim\0tanstaaftanstaaf'))));
  await fails(plain(be).step(B('\0tim\0wrong')), 'auth');
  await fails(plain(be).step(B('\0nobody\0x')), 'auth');
  await fails(plain(be).step(B('tim\0tanstaaftanstaaf')), 'syntax');
  await fails(plain(be).step(B('\0tim\0pw\0extra')), 'syntax');
  await fails(plain(be).step(B('\0\0pw')), 'syntax');
  await fails(plain(be).step(B('\0tim\0')), 'syntax');
  await fails(plain(be).step(Buffer.from([0, 0x74, 0, 0xff, 0xfe])), 'syntax');
  await fails(plain(be).step(B(`${'z'.repeat(256)}\0tim\0tanstaaftanstaaf`)), 'syntax');
  assert.deepEqual(parsePlain(B(`${'z'.repeat(255)}\0tim\0p`)).authzid.length, 255);
});

test('PLAIN: an exchange cannot be stepped again after it finished', async () => {
  const ex = plain(backend({ tim: { password: 'x' } }));
  await fails(ex.step(B('\0tim\0wrong')), 'auth');
  await fails(ex.step(B('\0tim\0x')), 'syntax');
});

test('LOGIN: Username:/Password: and initial response', async () => {
  const be = backend({ fred: { password: 'secret' } });
  const ex = login(be);
  assert.equal(((await ex.step(Buffer.alloc(0))) as { challenge: Buffer }).challenge.toString(), 'Username:');
  assert.equal(((await ex.step(B('fred'))) as { challenge: Buffer }).challenge.toString(), 'Password:');
  assert.deepEqual(await ex.step(B('secret')), { done: { authcid: 'fred', authzid: '' } });
  const ir = login(be);
  assert.equal(((await ir.step(B('fred'))) as { challenge: Buffer }).challenge.toString(), 'Password:');
  await fails(ir.step(B('nope')), 'auth');
});

test('CRAM-MD5: RFC 2195 example', async () => {
  const be = backend({ tim: { password: 'tanstaaftanstaaf', cleartext: true }, nocl: { password: 'x' } });
  const chal = '<1896.697170952@postoffice.reston.mci.net>';
  const ex = cramMd5(be, 'postoffice.reston.mci.net', chal);
  assert.equal(((await ex.step(Buffer.alloc(0))) as { challenge: Buffer }).challenge.toString(), chal);
  assert.deepEqual(await ex.step(B('tim b913a602c7eda7a495b4e6e7334d3890')), {
    done: { authcid: 'tim', authzid: '' },
  });
  const bad = cramMd5(be, 'x', chal);
  await bad.step(Buffer.alloc(0));
  await fails(bad.step(B('tim b913a602c7eda7a495b4e6e7334d3891')), 'auth');
  const syn = cramMd5(be, 'x', chal);
  await syn.step(Buffer.alloc(0));
  await fails(syn.step(B('tim B913A602C7EDA7A495B4E6E7334D3890')), 'syntax');
  // a user without stored cleartext cannot use CRAM-MD5
  const n = cramMd5(be, 'x', chal);
  await n.step(Buffer.alloc(0));
  await fails(n.step(B(`nocl ${createHmac('md5', 'x').update(chal).digest('hex')}`)), 'auth');
  // generated challenges look like <random.time@server>
  const g = cramMd5(be, 'mail.example.com');
  const c = ((await g.step(Buffer.alloc(0))) as { challenge: Buffer }).challenge.toString();
  assert.match(c, /^<[A-Za-z0-9]+\.\d+@mail\.example\.com>$/);
  await fails(cramMd5(be, 'x').step(B('early')), 'syntax');
});

test('SCRAM-SHA-1: RFC 5802 §5 example', async () => {
  const be = backend(
    { user: { password: 'pencil', salt1: Buffer.from('QSXCR+Q6sek8bf92', 'base64') } },
    '3rfcNHYJY1ZVvWVs7j',
  );
  const ex = scram(be, { hash: 'SHA-1', plus: false, bindings: [] });
  const s1 = (await ex.step(B('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'))) as { challenge: Buffer };
  assert.equal(
    s1.challenge.toString(),
    'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  );
  const fin = await ex.step(
    B('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='),
  );
  assert.ok('done' in fin);
  assert.equal(fin.done.authcid, 'user');
  assert.equal(fin.done.final?.toString(), 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
});

test('SCRAM-SHA-256: RFC 7677 §3 example', async () => {
  const be = backend(
    { user: { password: 'pencil', salt256: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64') } },
    '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  );
  const ex = scram(be, { hash: 'SHA-256', plus: false, bindings: [] });
  const s1 = (await ex.step(B('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'))) as { challenge: Buffer };
  assert.equal(
    s1.challenge.toString(),
    'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  );
  const fin = await ex.step(
    B(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    ),
  );
  assert.ok('done' in fin);
  assert.equal(fin.done.final?.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

/** A SCRAM client of our own, per RFC 5802 §3, for the round trips below. */
async function scramClient(
  ex: SaslExchange,
  o: {
    hash: 'SHA-1' | 'SHA-256';
    user: string;
    password: string;
    authzid?: string;
    gs2?: string;
    cb?: Buffer;
    tamper?: (m: string) => string;
  },
): Promise<{ done: boolean; final?: string }> {
  const gs2 = o.gs2 ?? `n,${o.authzid ? `a=${encodeSaslname(o.authzid)}` : ''},`;
  const cnonce = 'clientnonce123';
  const bare = `n=${encodeSaslname(o.user)},r=${cnonce}`;
  const r1 = await ex.step(B(gs2 + bare));
  if (!('challenge' in r1)) throw new Error('expected server-first');
  const sf = r1.challenge.toString();
  const m = /^r=([^,]+),s=([^,]+),i=(\d+)$/.exec(sf);
  assert.ok(m, sf);
  assert.ok(m[1].startsWith(cnonce));
  const sec = scramSecret(o.hash, o.password, Buffer.from(m[2], 'base64'), Number(m[3]));
  const withoutProof = `c=${Buffer.concat([B(gs2), o.cb ?? Buffer.alloc(0)]).toString('base64')},r=${m[1]}`;
  const authMessage = `${bare},${sf},${withoutProof}`;
  // ClientKey is not kept by the server; recompute from the password for the client side
  const len = o.hash === 'SHA-1' ? 20 : 32;
  const { pbkdf2Sync } = await import('node:crypto');
  const salted = pbkdf2Sync(
    o.password,
    Buffer.from(m[2], 'base64'),
    Number(m[3]),
    len,
    o.hash === 'SHA-1' ? 'sha1' : 'sha256',
  );
  const clientKey = HMAC(o.hash, salted, 'Client Key');
  assert.deepEqual(H(o.hash, clientKey), sec.storedKey);
  const sig = HMAC(o.hash, sec.storedKey, authMessage);
  const proof = Buffer.from(clientKey.map((b, i) => b ^ sig[i]));
  let msg = `${withoutProof},p=${proof.toString('base64')}`;
  if (o.tamper) msg = o.tamper(msg);
  const r2 = await ex.step(B(msg));
  if (!('done' in r2)) throw new Error('expected done');
  const want = `v=${HMAC(o.hash, sec.serverKey, authMessage).toString('base64')}`;
  assert.equal(r2.done.final?.toString(), want);
  return { done: true, final: r2.done.final?.toString() };
}

test('SCRAM round trips with our client, authzid, and failures', async () => {
  const be = backend({ 'we,ird=name': { password: 'pässword' }, fred: { password: 'pw' } });
  for (const hash of ['SHA-1', 'SHA-256'] as const) {
    assert.ok(
      (
        await scramClient(scram(be, { hash, plus: false, bindings: [] }), {
          hash,
          user: 'we,ird=name',
          password: 'pässword',
        })
      ).done,
    );
    await fails(
      scramClient(scram(be, { hash, plus: false, bindings: [] }), { hash, user: 'fred', password: 'wrong' }),
      'auth',
    );
    await fails(
      scramClient(scram(be, { hash, plus: false, bindings: [] }), { hash, user: 'ghost', password: 'pw' }),
      'auth',
    );
    await fails(
      scramClient(scram(be, { hash, plus: false, bindings: [] }), {
        hash,
        user: 'fred',
        password: 'pw',
        tamper: (m) => m.replace(/r=clientnonce123[^,]*/, 'r=clientnonce123X'),
      }),
      'auth',
    );
  }
  // authzid travels in the gs2 header and comes back canonical
  const z = await (async () => {
    const e2 = scram(be, { hash: 'SHA-256', plus: false, bindings: [] });
    let out = '';
    const wrap: SaslExchange = {
      step: async (b) => {
        const r = await e2.step(b);
        if ('done' in r) out = r.done.authzid;
        return r;
      },
    };
    await scramClient(wrap, { hash: 'SHA-256', user: 'fred', password: 'pw', authzid: 'Joe' });
    return out;
  })();
  assert.equal(z, 'joe');
});

test('SCRAM: unknown users get a stable fake salt', async () => {
  const be = backend({});
  const salt = async (): Promise<string> => {
    const r = (await scram(be, { hash: 'SHA-1', plus: false, bindings: [] }).step(B('n,,n=ghost,r=x'))) as {
      challenge: Buffer;
    };
    return /s=([^,]+)/.exec(r.challenge.toString())![1];
  };
  assert.equal(await salt(), await salt());
});

test('SCRAM: strict client-first parsing', async () => {
  const be = backend({ fred: { password: 'pw' } });
  const bad = [
    'n,,r=abc',
    'x,,n=fred,r=abc',
    'n,b=x,n=fred,r=abc',
    'n,,m=ext,n=fred,r=abc',
    'n,,n=fr=ed,r=abc',
    'n,,n=fred,r=a,b',
    'n,,n=,r=abc',
    'n,,n=fred',
    'n,,n=fred,r=a b',
  ];
  for (const m of bad)
    await fails(scram(be, { hash: 'SHA-1', plus: false, bindings: [] }).step(B(m)), 'syntax');
  assert.equal(decodeSaslname('a=2Cb=3Dc'), 'a,b=c');
  assert.equal(parseClientFirst('p=tls-unique,,n=u,r=n').cbName, 'tls-unique');
  // p= with a non-PLUS mechanism and no TLS binding
  await fails(
    scram(be, { hash: 'SHA-1', plus: false, bindings: [] }).step(B('p=tls-unique,,n=fred,r=abc')),
    'syntax',
  );
  // malformed client-final
  const ex = scram(be, { hash: 'SHA-1', plus: false, bindings: [] });
  await ex.step(B('n,,n=fred,r=abc'));
  await fails(ex.step(B('c=biws,r=abc')), 'syntax');
});

test('SCRAM-PLUS: channel binding checked; downgrade refused', async () => {
  const be = backend({ fred: { password: 'pw' } });
  const cb = { type: 'tls-exporter', data: Buffer.alloc(32, 9) };
  const ok = await scramClient(scram(be, { hash: 'SHA-256', plus: true, bindings: [cb] }), {
    hash: 'SHA-256',
    user: 'fred',
    password: 'pw',
    gs2: 'p=tls-exporter,,',
    cb: cb.data,
  });
  assert.ok(ok.done);
  // wrong binding data (a man in the middle has a different TLS session)
  await fails(
    scramClient(scram(be, { hash: 'SHA-256', plus: true, bindings: [cb] }), {
      hash: 'SHA-256',
      user: 'fred',
      password: 'pw',
      gs2: 'p=tls-exporter,,',
      cb: Buffer.alloc(32, 1),
    }),
    'auth',
  );
  // binding type the connection does not have
  await fails(
    scram(be, { hash: 'SHA-256', plus: true, bindings: [cb] }).step(B('p=tls-unique,,n=fred,r=abc')),
    'auth',
  );
  // PLUS mechanism without binding request
  await fails(scram(be, { hash: 'SHA-256', plus: true, bindings: [cb] }).step(B('n,,n=fred,r=abc')), 'auth');
  // 'y' (client thinks the server cannot bind) while we can: downgrade
  await fails(scram(be, { hash: 'SHA-256', plus: false, bindings: [cb] }).step(B('y,,n=fred,r=abc')), 'auth');
  // p= under the plain name (Cyrus SASL clients): the binding is still verified
  const plainName = (data: Buffer) =>
    scramClient(scram(be, { hash: 'SHA-256', plus: false, bindings: [cb] }), {
      hash: 'SHA-256',
      user: 'fred',
      password: 'pw',
      gs2: 'p=tls-exporter,,',
      cb: data,
    });
  assert.ok((await plainName(cb.data)).done);
  await fails(plainName(Buffer.alloc(32, 1)), 'auth');
  // 'y' without TLS bindings is fine
  assert.ok(
    (
      await scramClient(scram(be, { hash: 'SHA-256', plus: false, bindings: [] }), {
        hash: 'SHA-256',
        user: 'fred',
        password: 'pw',
        gs2: 'y,,',
      })
    ).done,
  );
});

test('EXTERNAL and ANONYMOUS', async () => {
  const be = backend({});
  assert.deepEqual(await external(be, 'Alice').step(Buffer.alloc(0)), {
    done: { authcid: 'alice', authzid: '' },
  });
  assert.deepEqual(await external(be, 'alice').step(B('Bob')), {
    done: { authcid: 'alice', authzid: 'bob' },
  });
  await fails(external(be, undefined).step(Buffer.alloc(0)), 'auth');
  const traces: string[] = [];
  assert.deepEqual(await anonymous((t) => traces.push(t)).step(B('sirhc')), {
    done: { authcid: 'anonymous', authzid: '' },
  });
  assert.deepEqual(traces, ['sirhc']);
  await fails(anonymous().step(B('x'.repeat(256))), 'syntax');
});
