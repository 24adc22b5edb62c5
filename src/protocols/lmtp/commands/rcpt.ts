/**
 * RCPT TO:<forward-path> [IGNOREQUOTA] [NOTIFY=..] [ORCPT=..]  (RFC 5321 4.1.1.3; RFC 2033 4.2
 * each accepted RCPT gets one reply after DATA). IGNOREQUOTA is Cyrus's: deliver over quota.
 * Recipient forms and the quota rule: see ../recipient.ts.
 */
import type { LmtpCommand } from './index.js';
import { parsePath } from '../address.js';
import { resolveRecipient } from '../recipient.js';
import { R, replyForError, USER_UNKNOWN_PREAMBLE } from '../replies.js';
import { MAX_RECIPIENTS } from '../session.js';

export const rcpt: LmtpCommand = {
  verb: 'RCPT',
  needsLhlo: true,
  needsAuth: true,
  run(s, arg) {
    const txn = s.txn;
    if (!txn) {
      s.send(R.needMail);
      return;
    }
    // lmtp_strict_rfc2821: 8-bit octets in an address are refused; otherwise they become 'X'
    if (/[\x80-\xff]/.test(arg)) {
      if (s.deps.conf.getSwitch('lmtp_strict_rfc2821')) return s.send(R.paramSyntax);
      arg = arg.replace(/[\x80-\xff]/g, 'X');
    }
    const p = parsePath(arg, 'TO');
    if (!p.ok) {
      s.send(p.reason === 'params' ? R.unknownParams : R.paramSyntax);
      return;
    }
    let ignoreQuota = false;
    for (const name of Object.keys(p.params)) {
      if (name === 'IGNOREQUOTA') ignoreQuota = true;
      else if (name !== 'NOTIFY' && name !== 'ORCPT') {
        s.send(R.unknownParams);
        return;
      }
    }
    if (txn.rcpts.length >= MAX_RECIPIENTS) {
      s.send(R.tooManyRecipients);
      return;
    }
    try {
      const r = resolveRecipient(
        p.address,
        { store: s.deps.store, conf: s.deps.conf, poster: s.identity! },
        { ignoreQuota, sizeHint: txn.size },
      );
      txn.rcpts.push(r);
      s.send(R.rcptOk);
    } catch (e) {
      const { reply, internal } = replyForError(e, s.deps.conf.getSwitch('lmtp_over_quota_perm_failure'));
      if (internal) s.log.error(`RCPT ${p.address}: ${String(e)}`);
      else s.log.info(`RCPT ${p.address} refused: ${(e as Error).message}`);
      if (reply === R.userUnknown) s.send(reply, undefined, USER_UNKNOWN_PREAMBLE);
      else if (reply === R.overQuotaPerm || reply === R.overQuotaTemp)
        s.send(reply, `SESSIONID=<${s.conn.sessionId}>`);
      else s.send(reply);
    }
  },
};
