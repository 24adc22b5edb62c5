/**
 * `node dist/bench/compare/cli.js imap|lmtp|pop3 [options]`: runs one comparison directly
 * (bench/run.ts dispatches to `compare` too).
 */
import { compare, COMPARE_KINDS, type CompareKind } from './index.js';

const [kind, ...args] = process.argv.slice(2);
if (!kind || !COMPARE_KINDS.includes(kind as CompareKind) || args.includes('-h')) {
  console.error(`usage: node dist/bench/compare/cli.js ${COMPARE_KINDS.join('|')} [options]
  imap: --count N (100000) --idle N (1000) --seconds S (10) --mixed-size N (200)
  lmtp: --count N (10000 x 4 KB) --big M (1000 x 1 MB)
  pop3: --count N (10000) --window W (16)
  all:  --only ours,dovecot,cyrus`);
  process.exit(kind && args.includes('-h') ? 0 : 2);
}
try {
  await compare(kind as CompareKind, args);
} catch (e) {
  console.error(`compare ${kind}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
