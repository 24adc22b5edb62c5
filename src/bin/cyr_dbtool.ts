#!/usr/bin/env node
/** cyr_dbtool: look into a cyrusdb database file. See src/tools/dbtool.ts. */
import { main } from '../tools/dbtool.js';

process.exitCode = await main(process.argv.slice(2));
