/**
 * LOGIN (draft-murchison-sasl-login): the server asks "Username:" then "Password:"; an
 * initial response, when given, is the username. Kept for old clients (Outlook, some phones).
 *
 * Imports: sasl/common, the auth contract.
 */
import type { SaslExchange } from '../api.js';
import { type MechBackend, StepGuard, authFail, guarded, strictUtf8, syntax } from './common.js';

const MAX = 1024;

export function login(be: MechBackend): SaslExchange {
  const g = new StepGuard();
  let state: 'start' | 'user' | 'pass' = 'start';
  let username = '';
  return {
    step: (resp) =>
      guarded(g, async () => {
        if (resp.length > MAX) throw syntax('LOGIN response too long');
        if (state === 'start') {
          if (resp.length === 0) {
            state = 'user';
            return { challenge: Buffer.from('Username:') };
          }
          username = strictUtf8(resp, 'username');
          state = 'pass';
          return { challenge: Buffer.from('Password:') };
        }
        if (state === 'user') {
          if (resp.length === 0) throw syntax('empty username');
          username = strictUtf8(resp, 'username');
          state = 'pass';
          return { challenge: Buffer.from('Password:') };
        }
        g.end();
        const password = strictUtf8(resp, 'password');
        const authcid = be.canon(username);
        if (authcid === null || password === '' || !(await be.verify(authcid, password))) throw authFail();
        return { done: { authcid, authzid: '' } };
      }),
  };
}
