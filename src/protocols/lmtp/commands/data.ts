/**
 * DATA  (RFC 2033 4.2, RFC 5321 4.1.1.4): 354, then the dot-terminated message is streamed to
 * one spool (../spool.ts: memory, or a file when large) and delivered to every accepted recipient, with ONE reply per
 * recipient, in RCPT order, each sent once that copy is fsynced and committed.
 * A message refused as a whole (too big, invalid header, NUL) gets the same reply for every
 * recipient, after the final dot.
 */
import type { LmtpCommand } from './index.js';
import { deliverOne } from '../deliver.js';
import { spoolData, type SpooledMessage } from '../spool.js';
import { R, replyForError, type Reply } from '../replies.js';
import { receivedHeader } from '../trace.js';
import type { FilterOptions, FilterProblem, FilterVerdict } from '../message-filter.js';
import type { LmtpSession, Transaction } from '../session.js';

const PROBLEM_REPLY: Record<FilterProblem, Reply> = {
  tooBig: R.sizeExceeded,
  invalidHeader: R.invalidHeader,
  nul: R.nul,
  eightBitHeader: R.eightBitHeader,
};

/** Return-Path and Received, written before the message in the spool */
export function tracePrefix(s: LmtpSession, txn: Transaction): Buffer {
  return Buffer.from(
    `Return-Path: <${txn.from}>\r\n` +
      receivedHeader({
        lhlo: s.lhloHost,
        remote: s.conn.remote,
        serverName: s.deps.serverName,
        product: s.deps.product,
        secure: s.secure,
        authenticated: s.authenticated,
        sessionId: s.conn.sessionId,
      }),
    'latin1',
  );
}

export function filterOptions(s: LmtpSession): FilterOptions {
  const conf = s.deps.conf;
  return {
    maxSize: conf.getBytes('maxmessagesize'),
    munge8bit: conf.getSwitch('munge8bit'),
    reject8bit: conf.getSwitch('reject8bit'),
  };
}

/** After the whole message is spooled: one reply per accepted recipient, in RCPT order. */
export async function deliverSpooled(
  s: LmtpSession,
  txn: Transaction,
  spool: SpooledMessage,
  verdict: FilterVerdict,
): Promise<void> {
  const perm = s.deps.conf.getSwitch('lmtp_over_quota_perm_failure');
  const envelope = { from: txn.from, poster: s.identity?.userid ?? 'postman' };
  for (const r of txn.rcpts) {
    if (verdict.problem) {
      s.send(PROBLEM_REPLY[verdict.problem]);
      continue;
    }
    try {
      const out = await deliverOne(s.deps, r, envelope, spool, verdict.messageId, txn.rcpts.length);
      if (out.kind === 'rejected') s.send({ ...R.permission, text: out.reason || 'Message rejected' });
      else s.send(R.rcptOk, `SESSIONID=<${s.conn.sessionId}>`);
    } catch (e) {
      const { reply, internal } = replyForError(e, perm);
      if (internal)
        s.log.error(`delivery to ${r.address} failed: ${e instanceof Error ? e.stack : String(e)}`);
      else s.log.notice(`delivery to ${r.address} failed: ${(e as Error).message}`);
      s.send(reply, internal ? `(session ${s.conn.sessionId})` : undefined);
    }
  }
}

export const data: LmtpCommand = {
  verb: 'DATA',
  needsLhlo: true,
  needsAuth: true,
  async run(s, arg) {
    const txn = s.txn;
    if (!txn) return s.send(R.needMail);
    if (arg.trim() !== '') return s.send(R.paramSyntax);
    if (txn.chunks) return s.send({ code: 503, enhanced: '5.5.1', text: 'DATA not allowed after BDAT' });
    if (txn.rcpts.length === 0) return s.send(R.noRecipients);
    s.send(R.goAhead);
    s.flush();
    const spool = await spoolData(
      s.reader,
      s.deps.conf.getString('temp_path') ?? '/tmp',
      tracePrefix(s, txn),
      filterOptions(s),
      (input) => s.deps.store.stage(input),
    );
    try {
      if (!spool.complete) {
        s.log.notice('connection lost during DATA');
        s.close();
        return;
      }
      await deliverSpooled(s, txn, spool.spool, spool.verdict);
    } finally {
      s.resetTransaction();
      spool.spool.remove();
    }
  },
};
