/**
 * `npm run bench -- <name> [args]`: runs one benchmark (or all) and prints its figures.
 *
 *   master            start-to-ready time, accept rate, memory at many idle connections
 *   store             append rate, open/list, cached envelopes, index bytes per message
 *   imap, lmtp, pop3  the same workloads against ours, Dovecot and Cyrus from Debian (private
 *                     instances on loopback, installed on demand) in one run, with ratios
 *                     (bench/compare/); `--single` runs our server alone with the protocol's
 *                     own benchmark (bench/<name>.ts) instead
 *   imap-idle         memory per idle IMAP connection (slope between connection counts)
 *   qresync           QRESYNC resynchronisation after flag changes and SORT (DATE) on a large
 *                     mailbox, ours and Dovecot (bench/imap-qresync.ts)
 *
 * Each single benchmark is bench/<name>.ts with a default export `(args: string[]) => Promise<void>`.
 * With no name, every benchmark runs in turn (long: use a name and `--count` for a quick look).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compare, COMPARE_KINDS, type CompareKind } from './compare/index.js';

const SINGLE: Record<string, string> = {
  master: 'master',
  store: 'store',
  imap: 'imap',
  lmtp: 'lmtp',
  pop3: 'pop3',
  qresync: 'imap-qresync',
  'imap-idle': 'imap-idle',
};
const NAMES = Object.keys(SINGLE);

async function runSingle(name: string, args: string[]): Promise<boolean> {
  const url = new URL(`./${SINGLE[name]}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return false;
  const mod = (await import(url.href)) as { default: (args: string[]) => Promise<void> };
  console.log(`\n== bench ${name}`);
  await mod.default(args);
  return true;
}

async function runOne(name: string, args: string[]): Promise<boolean> {
  if ((COMPARE_KINDS as readonly string[]).includes(name) && !args.includes('--single')) {
    console.log(`\n== bench ${name}: ours vs dovecot vs cyrus`);
    await compare(name as CompareKind, args);
    return true;
  }
  return runSingle(
    name,
    args.filter((a) => a !== '--single'),
  );
}

const [name, ...args] = process.argv.slice(2);
if (name && !NAMES.includes(name)) {
  console.error(`usage: npm run bench -- [${NAMES.join('|')}] [--single] [options]`);
  process.exit(2);
}
for (const n of name ? [name] : NAMES) {
  const ran = await runOne(n, args);
  if (!ran && name) {
    console.error(`benchmark ${n} is not built yet`);
    process.exit(1);
  }
}
process.exit(0);
