#!/usr/bin/env node
/** cyr_ctl_deliver: dump (-d) or prune (-E days) deliver.db. See src/tools/ctl_deliver.ts. */
import { main } from '../tools/ctl_deliver.js';

process.exitCode = await main(process.argv.slice(2));
