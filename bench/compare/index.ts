/**
 * Side-by-side benchmarks of ours against Dovecot and Cyrus (issues #5 and #7).
 *
 * Owns: `compare(kind, args)` — runs the IMAP, LMTP or POP3 comparison (bench/compare/
 * imap.ts, lmtp.ts, pop3.ts) and prints its table on standard output (progress goes to
 * standard error).
 */
import { imapCompare } from './imap.js';
import { lmtpCompare } from './lmtp.js';
import { pop3Compare } from './pop3.js';

export type CompareKind = 'imap' | 'lmtp' | 'pop3';

export const COMPARE_KINDS: readonly CompareKind[] = ['imap', 'lmtp', 'pop3'];

export async function compare(kind: CompareKind, args: string[]): Promise<void> {
  const run = { imap: imapCompare, lmtp: lmtpCompare, pop3: pop3Compare }[kind];
  if (!run) throw new Error(`unknown comparison ${String(kind)} (want ${COMPARE_KINDS.join(', ')})`);
  const results = await run(args);
  console.log(results.render());
}
