#!/usr/bin/env node
/** cyr_mbpath: print where a mailbox lives on disk. See src/tools/mbpath.ts. */
import { main } from '../tools/mbpath.js';

process.exitCode = await main(process.argv.slice(2));
