/**
 * What a command module declares, and what it gets to work with.
 *
 * Owns: the `Command` declaration (names, allowed states, whether UID may prefix it, whether
 * EXPUNGE responses may follow it) and the per-command context. Each file in commands/ exports
 * one `Command`; commands/index.ts is the registry; session.ts is the dispatcher that checks
 * state and grammar before `run` and sends pending untagged updates after it.
 * Imports: types only.
 */
import type { ArgReader } from './args.js';
import type { Reply } from './errors.js';
import type { ImapSession } from './session.js';

export type StateName = 'notAuthenticated' | 'authenticated' | 'selected';

export interface CommandContext {
  session: ImapSession;
  tag: string;
  /** upper-case command name */
  name: string;
  /** prefixed by UID */
  uid: boolean;
}

export interface Command {
  /** upper-case names this module answers to */
  names: string[];
  /** states in which the command is allowed */
  states: StateName[];
  /** may be prefixed with UID */
  uid?: boolean;
  /**
   * RFC 3501 §7.4.1: EXPUNGE responses may not follow FETCH, STORE or SEARCH (their non-UID
   * forms), since the client could not tell which messages the numbers referred to.
   */
  noExpungeUnlessUid?: boolean;
  /** the reply's text defaults to "Completed" */
  run(ctx: CommandContext, args: ArgReader): Promise<Reply | void> | Reply | void;
}
