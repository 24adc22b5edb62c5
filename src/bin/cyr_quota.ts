#!/usr/bin/env node
/** cyr_quota: report quota roots and usage; -f fixes usage. See src/tools/quota.ts. */
import { main } from '../tools/quota.js';

process.exitCode = await main(process.argv.slice(2));
