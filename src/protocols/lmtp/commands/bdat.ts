/**
 * BDAT <chunk-size> [LAST]  (RFC 3030 CHUNKING, with RFC 2033's one reply per recipient after
 * the LAST chunk). Exactly chunk-size octets follow the command line, with no dot-stuffing;
 * they are read (and discarded when the command is refused) whatever the verdict, so the
 * session stays in step. Chunks go through the same filter into the same kind of spool as
 * DATA; non-final chunks are answered `250 2.0.0 <n> octets received`.
 */
import type { LmtpCommand } from './index.js';
import { R } from '../replies.js';
import { SpoolWriter } from '../spool.js';
import { deliverSpooled, filterOptions, tracePrefix } from './data.js';

/** read exactly n octets and hand each piece to `sink`; false when the input ended first */
async function readChunk(
  s: Parameters<LmtpCommand['run']>[0],
  n: number,
  sink: (b: Buffer) => Promise<void>,
): Promise<boolean> {
  let left = n;
  while (left > 0) {
    const got = await s.reader.readRaw();
    if (got === null) return false;
    if (got.length > left) {
      s.reader.unread(got.subarray(left));
      await sink(got.subarray(0, left));
      left = 0;
    } else {
      await sink(got);
      left -= got.length;
    }
  }
  return true;
}

export const bdat: LmtpCommand = {
  verb: 'BDAT',
  needsLhlo: true,
  needsAuth: true,
  async run(s, arg) {
    const m = /^([0-9]{1,15})( +LAST)? *$/i.exec(arg);
    if (!m) {
      // without a valid size the chunk cannot be skipped: the session is out of step
      s.send(R.paramSyntax);
      s.close();
      return;
    }
    const size = Number(m[1]);
    const last = m[2] !== undefined;
    const txn = s.txn;
    const refuse = !txn ? R.needMail : txn.rcpts.length === 0 ? R.noRecipients : null;
    if (refuse || !txn) {
      if (!(await readChunk(s, size, async () => undefined))) return s.close();
      s.send(refuse ?? R.needMail);
      return;
    }
    if (!txn.chunks) {
      txn.chunks = await SpoolWriter.open(
        s.deps.conf.getString('temp_path') ?? '/tmp',
        tracePrefix(s, txn),
        filterOptions(s),
        (input) => s.deps.store.stage(input),
      );
    }
    const w = txn.chunks;
    if (!(await readChunk(s, size, (b) => w.write(b)))) {
      s.log.notice('connection lost during BDAT');
      s.close();
      return;
    }
    if (!last) {
      s.send({ code: 250, enhanced: '2.0.0', text: `${size} octets received` });
      return;
    }
    txn.chunks = undefined;
    let verdict;
    try {
      verdict = await w.finish();
    } catch (e) {
      s.resetTransaction();
      await w.abort();
      throw e;
    }
    const spool = w.spooled();
    try {
      await deliverSpooled(s, txn, spool, verdict);
    } finally {
      s.resetTransaction();
      spool.remove();
    }
  },
};
