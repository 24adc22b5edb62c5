/**
 * What LOGIN and AUTHENTICATE share once the user is known: log, autocreate the INBOX
 * (autocreate_quota >= 0), switch to the authenticated state, and the tagged reply carrying
 * the new capability list (as Cyrus does).
 */
import type { Identity } from '../../../store/api.js';
import type { Reply } from '../errors.js';
import type { ImapSession } from '../session.js';

export function loggedIn(session: ImapSession, who: Identity, how: string): Reply {
  session.state = { kind: 'authenticated', who };
  session.log.notice(
    `login: ${session.logRemote().split(' ')[0]} ${who.userid} ${how}${session.secure ? ' tls' : ''}`,
  );
  if (session.conf.getBytes('autocreate_quota') >= 0) {
    try {
      session.store.ensureInbox(who.userid);
    } catch (e) {
      session.log.error(
        `autocreate INBOX for ${who.userid} failed: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  }
  return {
    code: `CAPABILITY ${session.capabilities().join(' ')}`,
    text: `User logged in SESSIONID=<${session.id}>`,
  };
}

/** the failed-login pause (Cyrus: 3 s), then the reply */
export async function failedLogin(session: ImapSession, what: string): Promise<void> {
  // the authenticator already logged the failure (badlogin: ...); this only marks the delay
  session.log.debug(`failed login (${what}), pausing`);
  const ms = session.deps.auth.failedLoginDelay();
  if (ms > 0) {
    session.out.flush();
    await new Promise((r) => setTimeout(r, ms));
  }
}
