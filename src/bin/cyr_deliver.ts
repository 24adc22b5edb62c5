#!/usr/bin/env node
/** cyr_deliver: deliver a message from stdin to mailboxes (Cyrus `deliver`). See src/tools/deliver.ts. */
import { main } from '../tools/deliver.js';

process.exitCode = await main(process.argv.slice(2));
