#!/usr/bin/env node
/** cyr_info: show configuration, lint it, check listen= names, list connections. See src/tools/info.ts. */
import { main } from '../tools/info.js';

process.exitCode = await main(process.argv.slice(2));
