#!/usr/bin/env node
/** cyr_devsetup: create the development user and print how to connect. See src/tools/devsetup.ts. */
import { main } from '../tools/devsetup.js';

process.exitCode = await main(process.argv.slice(2));
