/**
 * DATA  (RFC 2033 4.2, RFC 5321 4.1.1.4): 354, then the dot-terminated message is streamed to
 * one spool file (../spool.ts) and delivered to every accepted recipient, with ONE reply per
 * recipient, in RCPT order, each sent once that copy is fsynced and committed.
 * A message refused as a whole (too big, invalid header, NUL) gets the same reply for every
 * recipient, after the final dot.
 */
import type { LmtpCommand } from './index.js';
import { deliverOne } from '../deliver.js';
import { removeSpool, spoolData } from '../spool.js';
import { R, replyForError, type Reply } from '../replies.js';
import { receivedHeader } from '../trace.js';
import type { FilterProblem } from '../message-filter.js';

const PROBLEM_REPLY: Record<FilterProblem, Reply> = {
  tooBig: R.sizeExceeded,
  invalidHeader: R.invalidHeader,
  nul: R.nul,
  eightBitHeader: R.eightBitHeader,
};

export const data: LmtpCommand = {
  verb: 'DATA',
  needsLhlo: true,
  needsAuth: true,
  async run(s, arg) {
    const txn = s.txn;
    if (!txn) return s.send(R.needMail);
    if (arg.trim() !== '') return s.send(R.paramSyntax);
    if (txn.rcpts.length === 0) return s.send(R.noRecipients);
    s.send(R.goAhead);
    const conf = s.deps.conf;
    const prefix =
      `Return-Path: <${txn.from}>\r\n` +
      receivedHeader({
        lhlo: s.lhloHost,
        remote: s.conn.remote,
        serverName: s.deps.serverName,
        product: s.deps.product,
        secure: s.secure,
        authenticated: s.authenticated,
        sessionId: s.conn.sessionId,
      });
    const spool = await spoolData(
      s.reader,
      conf.getString('temp_path') ?? '/tmp',
      Buffer.from(prefix, 'latin1'),
      {
        maxSize: conf.getBytes('maxmessagesize'),
        munge8bit: conf.getSwitch('munge8bit'),
        reject8bit: conf.getSwitch('reject8bit'),
      },
    );
    try {
      if (!spool.complete) {
        s.log.notice('connection lost during DATA');
        s.close();
        return;
      }
      const problem = spool.verdict.problem;
      const perm = conf.getSwitch('lmtp_over_quota_perm_failure');
      const envelope = { from: txn.from, poster: s.identity?.userid ?? 'postman' };
      for (const r of txn.rcpts) {
        if (problem) {
          s.send(PROBLEM_REPLY[problem]);
          continue;
        }
        try {
          const out = await deliverOne(s.deps, r, envelope, spool.path, spool.verdict.messageId);
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
    } finally {
      s.resetTransaction();
      await removeSpool(spool.path);
    }
  },
};
