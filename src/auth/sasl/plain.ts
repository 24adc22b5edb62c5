/**
 * PLAIN (RFC 4616): one message `[authzid] NUL authcid NUL passwd`, each UTF-8, authzid
 * and authcid at most 255 octets, authcid and passwd non-empty, exactly two NULs.
 *
 * Imports: sasl/common, the auth contract.
 */
import type { SaslExchange, SaslSuccess } from '../api.js';
import { type MechBackend, StepGuard, authFail, guarded, strictUtf8, syntax } from './common.js';

const MAX_ID = 255;
const MAX_PASS = 1024;

export function parsePlain(msg: Buffer): { authzid: string; authcid: string; password: string } {
  const a = msg.indexOf(0);
  const b = a < 0 ? -1 : msg.indexOf(0, a + 1);
  if (a < 0 || b < 0 || msg.indexOf(0, b + 1) >= 0) throw syntax('PLAIN message needs exactly two NULs');
  const z = msg.subarray(0, a);
  const c = msg.subarray(a + 1, b);
  const p = msg.subarray(b + 1);
  if (z.length > MAX_ID || c.length > MAX_ID || p.length > MAX_PASS) throw syntax('PLAIN field too long');
  if (c.length === 0 || p.length === 0) throw syntax('PLAIN authcid and password must not be empty');
  return {
    authzid: strictUtf8(z, 'authzid'),
    authcid: strictUtf8(c, 'authcid'),
    password: strictUtf8(p, 'password'),
  };
}

export function plain(be: MechBackend): SaslExchange {
  const g = new StepGuard();
  let first = true;
  return {
    step: (resp) =>
      guarded(g, async () => {
        if (first && resp.length === 0) {
          first = false;
          return { challenge: Buffer.alloc(0) };
        }
        first = false;
        g.end();
        const m = parsePlain(resp);
        const authcid = be.canon(m.authcid);
        if (authcid === null || !(await be.verify(authcid, m.password))) throw authFail();
        let authzid = '';
        if (m.authzid !== '') {
          const z = be.canon(m.authzid);
          if (z === null) throw authFail('invalid authorization id');
          authzid = z;
        }
        const done: SaslSuccess = { authcid, authzid };
        return { done };
      }),
  };
}
