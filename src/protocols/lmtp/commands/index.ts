/**
 * The LMTP command registry: verb → handler. Each command is one file with its wire syntax
 * and RFC section at the top; the session does the shared checks declared here.
 */
import type { LmtpSession } from '../session.js';
import { lhlo } from './lhlo.js';
import { mail } from './mail.js';
import { rcpt } from './rcpt.js';
import { data } from './data.js';
import { bdat } from './bdat.js';
import { rset } from './rset.js';
import { noop } from './noop.js';
import { quit } from './quit.js';
import { vrfy } from './vrfy.js';
import { auth } from './auth.js';
import { starttls } from './starttls.js';

export interface LmtpCommand {
  verb: string;
  /** refused with 503 before LHLO */
  needsLhlo: boolean;
  /** refused with 430/530 until authenticated (or pre-authorised) */
  needsAuth: boolean;
  run(s: LmtpSession, arg: string): void | Promise<void>;
}

export const COMMANDS: ReadonlyMap<string, LmtpCommand> = new Map(
  [lhlo, mail, rcpt, data, bdat, rset, noop, quit, vrfy, auth, starttls].map((c) => [c.verb, c]),
);
