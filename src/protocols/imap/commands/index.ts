/**
 * The IMAP command registry: upper-case name → command module. The dispatcher (session.ts)
 * looks commands up here; a test checks that every module's names are registered once.
 */
import type { Command } from '../command.js';
import append from './append.js';
import authenticate from './authenticate.js';
import capability from './capability.js';
import cancelupdate from './cancelupdate.js';
import check from './check.js';
import close from './close.js';
import compress from './compress.js';
import copy from './copy.js';
import create from './create.js';
import del from './delete.js';
import enable from './enable.js';
import expunge from './expunge.js';
import fetchPartial from './fetch-partial.js';
import id from './id.js';
import idle from './idle.js';
import list from './list.js';
import login from './login.js';
import logout from './logout.js';
import namespace from './namespace.js';
import noop from './noop.js';
import rename from './rename.js';
import replace from './replace.js';
import search from './search.js';
import select from './select.js';
import sort from './sort.js';
import starttls from './starttls.js';
import status from './status.js';
import store from './store.js';
import subscribe from './subscribe.js';
import thread from './thread.js';
import unauthenticate from './unauthenticate.js';
import acl from './acl.js';
import quota from './quota.js';
import metadata from './metadata.js';

export const ALL_COMMANDS: Command[] = [
  append,
  authenticate,
  cancelupdate, // RFC 5267 §4.5 (context.ts)
  capability,
  check,
  close,
  compress,
  copy,
  create,
  del,
  enable,
  expunge,
  fetchPartial, // fetch.ts, with RFC 9394's PARTIAL modifier
  id,
  idle,
  list,
  login,
  logout,
  namespace,
  noop,
  rename,
  replace,
  search,
  select,
  sort,
  starttls,
  status,
  store,
  subscribe,
  thread,
  unauthenticate,
  ...acl,
  ...quota,
  ...metadata,
];

export const COMMANDS = new Map<string, Command>();
for (const c of ALL_COMMANDS) for (const n of c.names) COMMANDS.set(n, c);
