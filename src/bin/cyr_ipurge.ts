#!/usr/bin/env node
/** cyr_ipurge: delete messages by age or size. See src/tools/ipurge.ts. */
import { main } from '../tools/ipurge.js';

process.exitCode = await main(process.argv.slice(2));
