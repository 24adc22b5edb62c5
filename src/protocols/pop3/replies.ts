/**
 * POP3 response texts and the one place store/auth errors become POP3 responses, with the
 * RFC 2449 8 / RFC 3206 response codes ([IN-USE], [LOGIN-DELAY], [SYS/TEMP], [SYS/PERM],
 * [AUTH]). Texts follow Cyrus 3.6 where observed (cyrus-observed.md §2, §6).
 */
import { MailError } from '../../store/api.js';

export const E = {
  unknownCommand: '-ERR Unrecognized command',
  syntax: '-ERR Invalid argument',
  lineTooLong: '-ERR Line too long',
  notLoggedIn: '-ERR [AUTH] Please login first',
  alreadyLoggedIn: '-ERR Already logged in',
  noSuchMessage: '-ERR No such message',
  needUser: '-ERR Must give USER command',
  invalidLogin: '-ERR [AUTH] Invalid login',
  plaintextDenied: '-ERR [AUTH] USER command only available under a layer',
  authFailed: '-ERR [AUTH] authenticating: authentication failure',
  authCancelled: '-ERR [AUTH] authenticating: client canceled authentication',
  mechUnknown: '-ERR [AUTH] authenticating: no mechanism available',
  apopUnavailable: '-ERR [AUTH] APOP not available',
  inUse: '-ERR [IN-USE] Unable to lock maildrop',
  noMaildrop: '-ERR [SYS/PERM] Unable to locate maildrop',
  loginDelay: (minutes: number): string =>
    `-ERR [LOGIN-DELAY] Logins must be at least ${minutes} minute${minutes === 1 ? '' : 's'} apart`,
  temp: '-ERR [SYS/TEMP] Temporary failure, try again later',
  tlsUnavailable: '-ERR STLS not available',
  tlsAlready: '-ERR [SYS/PERM] TLS already active',
  timeout: '-ERR [SYS/TEMP] Autologout; idle for too long',
  shutdown: '-ERR [SYS/TEMP] Server shutting down',
} as const;

/** A store error at login/mailbox open or during a command → one -ERR line. */
export function errorLine(err: unknown): { line: string; internal: boolean } {
  if (err instanceof MailError) {
    switch (err.kind) {
      case 'inUse':
        return { line: E.inUse, internal: false };
      case 'notFound':
      case 'perm':
        return { line: E.noMaildrop, internal: false };
      case 'expunged':
        return { line: '-ERR [SYS/TEMP] Message was expunged by another session', internal: false };
      default:
        return { line: E.temp, internal: false };
    }
  }
  return { line: E.temp, internal: true };
}
