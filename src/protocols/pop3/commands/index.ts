/**
 * The POP3 command registry (RFC 1939 + extensions): verb → handler, with the states a command
 * is valid in and its argument count; the session checks both before calling `run`.
 */
import type { PopSession } from '../session.js';
import { user } from './user.js';
import { pass } from './pass.js';
import { apop } from './apop.js';
import { auth } from './auth.js';
import { stls } from './stls.js';
import { capa } from './capa.js';
import { stat } from './stat.js';
import { list } from './list.js';
import { retr } from './retr.js';
import { top } from './top.js';
import { dele } from './dele.js';
import { rset } from './rset.js';
import { noop } from './noop.js';
import { uidl } from './uidl.js';
import { quit } from './quit.js';

export interface PopCommand {
  verb: string;
  states: ('authorization' | 'transaction')[];
  /** [min, max] arguments; undefined = the command checks its own (USER, PASS, AUTH) */
  args?: [number, number];
  run(s: PopSession, args: string[], line: string): void | Promise<void>;
}

export const COMMANDS: ReadonlyMap<string, PopCommand> = new Map(
  [user, pass, apop, auth, stls, capa, stat, list, retr, top, dele, rset, noop, uidl, quit].map((c) => [
    c.verb,
    c,
  ]),
);
