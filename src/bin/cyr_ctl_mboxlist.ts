#!/usr/bin/env node
/** cyr_ctl_mboxlist: dump (-d) or load (-u) the mailbox list. See src/tools/ctl_mboxlist.ts. */
import { main } from '../tools/ctl_mboxlist.js';

process.exitCode = await main(process.argv.slice(2));
