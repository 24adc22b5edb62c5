/**
 * EXTERNAL (RFC 4422 Appendix A): the identity comes from outside SASL — here a verified TLS
 * client certificate (or a trusted unix socket). The client's only message is the authzid it
 * wants (possibly empty).
 *
 * Imports: sasl/common, the auth contract.
 */
import type { SaslExchange } from '../api.js';
import { type MechBackend, StepGuard, authFail, guarded, strictUtf8, syntax } from './common.js';

export function external(be: MechBackend, externalId: string | undefined): SaslExchange {
  const g = new StepGuard();
  return {
    step: (resp) =>
      guarded(g, async () => {
        g.end();
        if (resp.length > 255) throw syntax('authzid too long');
        if (!externalId) throw authFail('no external identity');
        const authcid = be.canon(externalId);
        if (authcid === null) throw authFail('external identity is not a valid userid');
        const z = strictUtf8(resp, 'authzid');
        let authzid = '';
        if (z !== '') {
          const c = be.canon(z);
          if (c === null) throw authFail('invalid authorization id');
          authzid = c;
        }
        return { done: { authcid, authzid } };
      }),
  };
}
