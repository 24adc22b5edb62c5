#!/usr/bin/env node
/** cyr_saslpasswd: add, change, delete and list users of our sasldb. See src/tools/saslpasswd.ts. */
import { main } from '../tools/saslpasswd.js';

process.exitCode = await main(process.argv.slice(2));
