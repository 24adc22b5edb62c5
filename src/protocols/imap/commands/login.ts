/**
 * LOGIN (RFC 3501 §6.2.3): `tag LOGIN userid password`. Refused without TLS unless
 * allowplaintext (LOGINDISABLED is then advertised). Failures wait failedLoginDelay() and say
 * nothing about why. The password is never logged.
 */
import type { Command } from '../command.js';
import { failedLogin, loggedIn } from './login-common.js';

const login: Command = {
  names: ['LOGIN'],
  states: ['notAuthenticated'],
  async run({ session }, args) {
    const user = args.astring();
    const pass = args.astring();
    args.end();
    if (!session.deps.auth.plaintextAllowed(session.secure)) {
      return { status: 'NO', code: 'PRIVACYREQUIRED', text: 'Login only available under a layer' };
    }
    const who = session.deps.noPasswordCheck
      ? session.deps.auth.identityFor(user, '')
      : await session.deps.auth.checkPassword(user, pass, {
          service: session.deps.service,
          secure: session.secure,
          remote: session.logRemote(),
        });
    if (!who) {
      await failedLogin(session, `LOGIN user=${user.slice(0, 256)}`);
      return { status: 'NO', code: 'AUTHENTICATIONFAILED', text: 'Login failed: authentication failure' };
    }
    return loggedIn(session, who, 'LOGIN');
  },
};
export default login;
