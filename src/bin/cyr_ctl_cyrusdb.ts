#!/usr/bin/env node
/** cyr_ctl_cyrusdb: recover or checkpoint every cyrusdb database. See src/tools/ctl_cyrusdb.ts. */
import { main } from '../tools/ctl_cyrusdb.js';

process.exitCode = await main(process.argv.slice(2));
