#!/usr/bin/env node
/** cyr_expire: expire duplicate records, expunged messages and deleted mailboxes. See src/tools/expire.ts. */
import { main } from '../tools/expire.js';

process.exitCode = await main(process.argv.slice(2));
