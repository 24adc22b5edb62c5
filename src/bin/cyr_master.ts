#!/usr/bin/env node
/** cyr_master: the Cyrus supervisor (see src/tools/master.ts). */
import { main } from '../tools/master.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cyr_master: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(70);
  },
);
