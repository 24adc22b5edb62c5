#!/usr/bin/env node
/** cyr_tls_prune: expire entries of the TLS session cache. See src/tools/tls_prune.ts. */
import { main } from '../tools/tls_prune.js';

process.exitCode = await main(process.argv.slice(2));
