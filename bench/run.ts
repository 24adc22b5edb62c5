/**
 * `npm run bench -- <name> [args]`: runs one benchmark (or all) and prints its figures.
 *
 * Each benchmark is bench/<name>.ts with a default export `(args: string[]) => Promise<void>`
 * that prints a table. Names: master, store, imap, lmtp, pop3. With no name, every benchmark
 * whose module exists runs in turn.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NAMES = ['master', 'store', 'imap', 'lmtp', 'pop3'];

async function runOne(name: string, args: string[]): Promise<boolean> {
  const url = new URL(`./${name}.js`, import.meta.url);
  if (!existsSync(fileURLToPath(url))) return false;
  const mod = (await import(url.href)) as { default: (args: string[]) => Promise<void> };
  console.log(`\n== bench ${name}`);
  await mod.default(args);
  return true;
}

const [name, ...args] = process.argv.slice(2);
if (name && !NAMES.includes(name)) {
  console.error(`usage: npm run bench -- [${NAMES.join('|')}] [options]`);
  process.exit(2);
}
for (const n of name ? [name] : NAMES) {
  const ran = await runOne(n, args);
  if (!ran && name) {
    console.error(`benchmark ${n} is not built yet`);
    process.exit(1);
  }
}
