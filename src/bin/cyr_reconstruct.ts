#!/usr/bin/env node
/** cyr_reconstruct: repair mailbox indexes from the message files. See src/tools/reconstruct.ts. */
import { main } from '../tools/reconstruct.js';

process.exitCode = await main(process.argv.slice(2));
