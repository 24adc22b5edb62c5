/**
 * AUTHENTICATE (RFC 3501 §6.2.2, SASL-IR RFC 4959): `tag AUTHENTICATE mech [initial-response]`,
 * then `+ <base64 challenge>` / client base64 lines until done; a line `*` cancels (BAD).
 * The session is in its AUTHENTICATE waiting state while reading those raw lines.
 * Client data is never logged.
 */
import { SaslFailure } from '../../../auth/api.js';
import type { Command } from '../command.js';
import { failedLogin, loggedIn } from './login-common.js';

function decodeB64(s: string): Buffer | null {
  if (s === '=') return Buffer.alloc(0);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  return Buffer.from(s, 'base64');
}

const authenticate: Command = {
  names: ['AUTHENTICATE'],
  states: ['notAuthenticated'],
  async run({ session }, args) {
    const mech = args.atom().toUpperCase();
    let initial: Buffer | null = null;
    if (args.remaining > 0) {
      const ir = args.atom();
      initial = decodeB64(ir);
      if (!initial) return { status: 'BAD', text: 'Invalid base64 string' };
    }
    args.end();
    const auth = session.deps.auth;
    if (!session.mechanisms().includes(mech)) {
      return { status: 'NO', text: 'Authentication mechanism not supported' };
    }
    let exchange;
    try {
      exchange = auth.start(mech, session.saslContext());
    } catch {
      return { status: 'NO', text: 'Authentication mechanism not supported' };
    }
    let response = initial ?? Buffer.alloc(0);
    try {
      for (;;) {
        // without an initial response the mechanism answers the empty one with its first challenge
        const step = await exchange.step(response);
        if ('done' in step) {
          const who = auth.identityFor(step.done.authcid, step.done.authzid);
          if (step.done.final && step.done.final.length) {
            // RFC 4959: success data goes in a final challenge the client answers with an empty line
            session.out.write(`+ ${step.done.final.toString('base64')}\r\n`);
            const line = await session.readLine();
            if (line === null) return { status: 'NO', text: 'Connection closed' };
            if (line.toString() === '*') return { status: 'BAD', text: 'Client canceled authentication' };
          }
          return loggedIn(session, who, `AUTHENTICATE ${mech}`);
        }
        session.out.write(`+ ${step.challenge.toString('base64')}\r\n`);
        const line = await session.readLine();
        if (line === null) return { status: 'NO', text: 'Connection closed' };
        const text = line.toString('latin1');
        if (text === '*') return { status: 'BAD', text: 'Client canceled authentication' };
        const b = decodeB64(text);
        if (!b) return { status: 'BAD', text: 'Invalid base64 string' };
        response = b;
      }
    } catch (e) {
      if (e instanceof SaslFailure) {
        if (e.reason === 'syntax') return { status: 'BAD', text: 'Invalid SASL exchange' };
        await failedLogin(session, `AUTHENTICATE ${mech} ${e.reason}`);
        return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'authentication failure' };
      }
      throw e;
    }
  },
};
export default authenticate;
