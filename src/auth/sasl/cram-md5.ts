/**
 * CRAM-MD5 (RFC 2195): the server sends `<random.time@servername>`, the client answers
 * `username SP hex(HMAC-MD5(password, challenge))` with 32 lower-case hex digits. Needs the
 * cleartext password, which our sasldb keeps only on request (cyr_saslpasswd -k).
 *
 * Imports: node:crypto, sasl/common, the auth contract.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SaslExchange } from '../api.js';
import { type MechBackend, StepGuard, authFail, guarded, randomNonce, strictUtf8, syntax } from './common.js';

const MAX = 1024;

export function cramMd5(be: MechBackend, serverName: string, challenge?: string): SaslExchange {
  const g = new StepGuard();
  const chal =
    challenge ??
    `<${(be.nonce ?? randomNonce)()
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 16)}.${Date.now()}@${serverName}>`;
  let sent = false;
  return {
    step: (resp) =>
      guarded(g, async () => {
        if (!sent) {
          if (resp.length !== 0) throw syntax('CRAM-MD5 takes no initial response');
          sent = true;
          return { challenge: Buffer.from(chal) };
        }
        g.end();
        if (resp.length > MAX) throw syntax('CRAM-MD5 response too long');
        const text = strictUtf8(resp, 'response');
        const sp = text.lastIndexOf(' ');
        if (sp <= 0) throw syntax('CRAM-MD5 response needs "user digest"');
        const digest = text.slice(sp + 1);
        if (!/^[0-9a-f]{32}$/.test(digest)) throw syntax('CRAM-MD5 digest must be 32 lower-case hex digits');
        const authcid = be.canon(text.slice(0, sp));
        const secret = authcid === null ? null : await be.cleartext(authcid);
        if (authcid === null || secret === null) throw authFail();
        const want = createHmac('md5', secret).update(chal).digest();
        if (!timingSafeEqual(want, Buffer.from(digest, 'hex'))) throw authFail();
        return { done: { authcid, authzid: '' } };
      }),
  };
}
