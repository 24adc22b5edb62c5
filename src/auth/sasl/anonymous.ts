/**
 * ANONYMOUS (RFC 4505): the client sends optional trace information (an email address or
 * up to 255 characters of text); the user becomes `anonymous`. Offered only with
 * allowanonymouslogin.
 *
 * Imports: sasl/common, the auth contract.
 */
import type { SaslExchange } from '../api.js';
import { StepGuard, guarded, strictUtf8, syntax } from './common.js';

export function anonymous(onTrace?: (trace: string) => void): SaslExchange {
  const g = new StepGuard();
  return {
    step: (resp) =>
      guarded(g, async () => {
        g.end();
        if (resp.length > 255 * 4) throw syntax('trace too long');
        const trace = strictUtf8(resp, 'trace');
        if ([...trace].length > 255) throw syntax('trace too long');
        onTrace?.(trace);
        return { done: { authcid: 'anonymous', authzid: '' } };
      }),
  };
}
