/**
 * What LOGIN and AUTHENTICATE share once the user is known: session limits, log, autocreate the INBOX
 * (autocreate_quota >= 0), switch to the authenticated state, and the tagged reply carrying
 * the new capability list (as Cyrus does).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseProcFile, type ProcRecord } from '../../../master/procfile.js';
import type { Identity } from '../../../store/api.js';
import type { Reply } from '../errors.js';
import type { ImapSession } from '../session.js';

/**
 * maxlogins_per_user / maxlogins_per_host (Cyrus counts logged-in sessions in the proc files of
 * every process; so do we, under master where proc files exist). null when within limits.
 */
function overLoginLimit(session: ImapSession, userid: string): string | null {
  const perUser = session.conf.getInt('maxlogins_per_user');
  const perHost = session.conf.getInt('maxlogins_per_host');
  const proc = session.deps.proc;
  if ((perUser <= 0 && perHost <= 0) || !proc) return null;
  const dir = dirname(proc.path);
  const mine = basename(proc.path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  let myHost = '';
  const others: ProcRecord[] = [];
  for (const f of names) {
    let text: string;
    try {
      text = readFileSync(join(dir, f), 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const r = parseProcFile(f, text);
    if (!r) continue;
    if (f === mine) myHost = r.host;
    else if (r.user) others.push(r);
  }
  if (perUser > 0 && others.filter((r) => r.user === userid).length >= perUser) return 'user';
  if (perHost > 0 && myHost && others.filter((r) => r.host === myHost).length >= perHost) return 'host';
  return null;
}

export function loggedIn(session: ImapSession, who: Identity, how: string): Reply {
  const over = overLoginLimit(session, who.userid);
  if (over) {
    session.log.notice(`login refused: ${who.userid} has too many sessions (maxlogins_per_${over})`);
    return { status: 'NO', code: 'LIMIT', text: 'Too many open connections' };
  }
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
