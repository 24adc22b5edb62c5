/**
 * SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677), and their -PLUS variants with TLS
 * channel binding (RFC 5929 tls-unique / tls-server-end-point, RFC 9266 tls-exporter).
 *
 * Grammar (RFC 5802 §7), parsed strictly; anything else is a 'syntax' failure:
 *   client-first  = gs2-header client-first-bare
 *   gs2-header    = ("n" / "y" / "p=" cb-name) "," ["a=" saslname] ","
 *   client-first-bare = ["m=" ext ","] "n=" saslname "," "r=" c-nonce ["," extensions]
 *   client-final  = "c=" base64 "," "r=" nonce ["," extensions] "," "p=" base64
 * saslname escapes ',' as "=2C" and '=' as "=3D"; any other '=' is invalid. A mandatory
 * extension ("m=") is refused, as §5.1 requires of servers that do not know it.
 *
 * Channel binding rules (§6): a non-PLUS mechanism refuses "y" when this server could have
 * bound (the client was tricked into thinking we cannot: a downgrade), and accepts "p=" only
 * when the connection has that binding (Cyrus SASL clients send it so; see below). A -PLUS mechanism needs "p=<type>" naming a binding the connection has, and the
 * c= attribute must carry the gs2-header followed by exactly that binding data.
 *
 * Unknown users get a deterministic fake salt (HMAC of the server secret and the name) so the
 * exchange looks the same as for a real user and fails only at the proof.
 *
 * Imports: node:crypto, secrets (H/HMAC/saslprep), sasl/common, the auth contract.
 */
import { timingSafeEqual } from 'node:crypto';
import type { SaslExchange, ScramHash, ScramSecret } from '../api.js';
import { H, HMAC, SCRAM_ITERATIONS, saslprep } from '../secrets.js';
import { type MechBackend, StepGuard, authFail, guarded, randomNonce, strictUtf8, syntax } from './common.js';

const MAX_MSG = 4096;

export interface ChannelBinding {
  type: string;
  data: Buffer;
}

/** saslname → string; refuses stray '=' and ','. */
export function decodeSaslname(s: string): string {
  if (s.includes(',')) throw syntax('"," in saslname');
  const out = s.replace(/=(2C|3D)|=/g, (m) => {
    if (m === '=2C') return ',';
    if (m === '=3D') return '=';
    throw syntax('bad "=" escape in saslname');
  });
  if (out === '') throw syntax('empty saslname');
  return out;
}

/** string → saslname (for clients and tests). */
export function encodeSaslname(s: string): string {
  return s.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
function b64(s: string, what: string): Buffer {
  if (!B64.test(s)) throw syntax(`${what} is not base64`);
  return Buffer.from(s, 'base64');
}

const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

interface ClientFirst {
  gs2Header: string;
  cbFlag: 'n' | 'y' | 'p';
  cbName: string;
  authzid: string;
  username: string;
  nonce: string;
  bare: string;
}

export function parseClientFirst(text: string): ClientFirst {
  // gs2-header: two commas delimit it
  const c1 = text.indexOf(',');
  const c2 = c1 < 0 ? -1 : text.indexOf(',', c1 + 1);
  if (c1 < 0 || c2 < 0) throw syntax('missing gs2 header');
  const flag = text.slice(0, c1);
  const az = text.slice(c1 + 1, c2);
  let cbFlag: ClientFirst['cbFlag'];
  let cbName = '';
  if (flag === 'n' || flag === 'y') cbFlag = flag;
  else if (/^p=[A-Za-z0-9.-]+$/.test(flag)) {
    cbFlag = 'p';
    cbName = flag.slice(2);
  } else throw syntax('bad gs2-cbind-flag');
  let authzid = '';
  if (az !== '') {
    if (!az.startsWith('a=')) throw syntax('bad gs2 authzid');
    authzid = decodeSaslname(az.slice(2));
  }
  const gs2Header = text.slice(0, c2 + 1);
  const bare = text.slice(c2 + 1);
  const attrs = bare.split(',');
  if (attrs[0].startsWith('m=')) throw syntax('mandatory extension not supported');
  if (attrs.length < 2 || !attrs[0].startsWith('n=') || !attrs[1].startsWith('r='))
    throw syntax('expected n= and r=');
  const username = decodeSaslname(attrs[0].slice(2));
  const nonce = attrs[1].slice(2);
  if (!PRINTABLE.test(nonce)) throw syntax('bad client nonce');
  for (const ext of attrs.slice(2)) if (!/^[A-Za-z]=/.test(ext)) throw syntax('bad extension');
  return { gs2Header, cbFlag, cbName, authzid, username, nonce, bare };
}

export interface ScramOptions {
  hash: ScramHash;
  plus: boolean;
  /** channel bindings the connection offers (TLS active), best first */
  bindings: ChannelBinding[];
}

export function scram(be: MechBackend, opts: ScramOptions): SaslExchange {
  const g = new StepGuard();
  const h = opts.hash;
  let state: 'first' | 'final' = 'first';
  let sentEmpty = false;
  let cf: ClientFirst;
  let serverFirst = '';
  let fullNonce = '';
  let secret: ScramSecret | null = null;
  let authcid: string | null = null;
  let cbData: Buffer = Buffer.alloc(0);

  const fakeSecret = (name: string): ScramSecret => {
    const salt = HMAC(h, be.secret, `salt:${name}`).subarray(0, 16);
    const k = HMAC(h, be.secret, `key:${name}`);
    return { salt, iterations: SCRAM_ITERATIONS, storedKey: H(h, k), serverKey: k };
  };

  return {
    step: (resp) =>
      guarded(g, async () => {
        if (resp.length > MAX_MSG) throw syntax('SCRAM message too long');
        if (state === 'first') {
          if (resp.length === 0 && !sentEmpty) {
            sentEmpty = true;
            return { challenge: Buffer.alloc(0) };
          }
          cf = parseClientFirst(strictUtf8(resp, 'client-first-message'));
          if (opts.plus) {
            if (cf.cbFlag !== 'p') throw authFail('channel binding required');
            const b = opts.bindings.find((x) => x.type === cf.cbName);
            if (!b) throw authFail(`channel binding type ${cf.cbName} not available`);
            cbData = b.data;
          } else if (cf.cbFlag === 'p') {
            // RFC 5802 reserves "p" for -PLUS, but Cyrus SASL 2.1.28 clients (imtest, Cyrus's
            // own proxies) send it under the plain name when the server offers -PLUS. The
            // binding is then verified exactly as for -PLUS, so accepting it only adds
            // protection; without TLS bindings it is refused.
            const b = opts.bindings.find((x) => x.type === cf.cbName);
            if (!b) throw syntax(`channel binding ${cf.cbName} requested but not available`);
            cbData = b.data;
          } else if (cf.cbFlag === 'y' && opts.bindings.length > 0) {
            throw authFail('channel binding downgrade');
          }
          let name: string;
          try {
            name = saslprep(cf.username);
          } catch {
            throw syntax('username fails SASLprep');
          }
          authcid = be.canon(name);
          secret = authcid === null ? null : await be.scram(authcid, h);
          const s = secret ?? fakeSecret(name);
          fullNonce = cf.nonce + (be.nonce ?? randomNonce)();
          serverFirst = `r=${fullNonce},s=${s.salt.toString('base64')},i=${s.iterations}`;
          state = 'final';
          return { challenge: Buffer.from(serverFirst) };
        }
        g.end();
        const text = strictUtf8(resp, 'client-final-message');
        const pIdx = text.lastIndexOf(',p=');
        if (pIdx < 0) throw syntax('missing proof');
        const withoutProof = text.slice(0, pIdx);
        const proof = b64(text.slice(pIdx + 3), 'proof');
        const attrs = withoutProof.split(',');
        if (attrs.length < 2 || !attrs[0].startsWith('c=') || !attrs[1].startsWith('r='))
          throw syntax('expected c= and r=');
        for (const ext of attrs.slice(2)) if (!/^[A-Za-z]=/.test(ext)) throw syntax('bad extension');
        const cb = b64(attrs[0].slice(2), 'channel binding');
        const wantCb = Buffer.concat([
          Buffer.from(cf.gs2Header),
          cf.cbFlag === 'p' ? cbData : Buffer.alloc(0),
        ]);
        if (!cb.equals(wantCb)) throw authFail('channel binding mismatch');
        if (attrs[1].slice(2) !== fullNonce) throw authFail('nonce mismatch');
        const s = secret;
        if (s === null || authcid === null) throw authFail();
        if (proof.length !== s.storedKey.length) throw authFail();
        const authMessage = `${cf.bare},${serverFirst},${withoutProof}`;
        const clientSig = HMAC(h, s.storedKey, authMessage);
        const clientKey = Buffer.alloc(proof.length);
        for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSig[i];
        if (!timingSafeEqual(H(h, clientKey), s.storedKey)) throw authFail();
        let authzid = '';
        if (cf.authzid !== '') {
          const z = be.canon(cf.authzid);
          if (z === null) throw authFail('invalid authorization id');
          authzid = z;
        }
        const serverSig = HMAC(h, s.serverKey, authMessage);
        return { done: { authcid, authzid, final: Buffer.from(`v=${serverSig.toString('base64')}`) } };
      }),
  };
}
