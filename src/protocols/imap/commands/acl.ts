/**
 * ACL (RFC 4314, RIGHTS=kxten), with Cyrus's admin and owner semantics:
 *
 *   setacl     = "SETACL" SP mailbox SP identifier SP mod-rights   ; mod-rights = ["+" / "-"] rights
 *   deleteacl  = "DELETEACL" SP mailbox SP identifier
 *   getacl     = "GETACL" SP mailbox          → "* ACL" SP mailbox *(SP identifier SP rights)
 *   listrights = "LISTRIGHTS" SP mailbox SP identifier
 *                                           → "* LISTRIGHTS" SP mailbox SP identifier SP required *(SP optional)
 *   myrights   = "MYRIGHTS" SP mailbox        → "* MYRIGHTS" SP mailbox SP rights
 *
 * The store checks rights and keeps the ACL string (`id\trights\t...`); this module reads and
 * prints it. GETACL, LISTRIGHTS, SETACL and DELETEACL need the 'a' right (admins hold every
 * right); MYRIGHTS needs any right. Without 'l' or 'r' the mailbox reads as nonexistent (store).
 * An unknown right letter is a BAD, as RFC 4314 §3.1 asks.
 */
import type { Command } from '../command.js';
import type { ArgReader } from '../args.js';
import { MailError } from '../../../store/api.js';
import { ImapReplyError } from '../errors.js';
import { astr } from '../response.js';
import type { ImapSession } from '../session.js';

/** the right letters Cyrus knows: RFC 4314 ones, the legacy c and d, and the custom digits */
const KNOWN_RIGHTS = 'lrswipkxtecdan0123456789';
/** LISTRIGHTS: the rights a client may grant, each on its own (Cyrus prints them this way) */
const GRANTABLE = ['l', 'r', 's', 'w', 'i', 'p', 'k', 'x', 't', 'e', 'c', 'd', 'a', 'n', ...'0123456789'];

/** identifier → rights, in the order they are stored (parses MailboxInfo.acl) */
export function aclEntries(acl: string): [string, string][] {
  const parts = acl.split('\t');
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) if (parts[i]) out.push([parts[i]!, parts[i + 1]!]);
  return out;
}

/** mailbox argument → internal name and the name echoed in the response (as the client sees it) */
export function mailboxArg(session: ImapSession, args: ArgReader): { name: string; wire: string } {
  const raw = args.astringBytes();
  const name = session.mailboxIn(raw);
  const ext = session.externalName(name) ?? raw.toString('utf8');
  return { name, wire: session.wireName(ext) };
}

/** effective rights of the session's user; MailError perm (NO [NOPERM]) unless they include `needed` */
function requireRight(session: ImapSession, name: string, needed: string): string {
  const r = session.store.rights(session.who(), name);
  if (!r.includes(needed)) throw new MailError('perm', `right ${needed} needed`);
  return r;
}

function identifierArg(args: ArgReader): string {
  const id = args.astring();
  if (id.length === 0) throw new ImapReplyError('BAD', `Invalid identifier in ${args.cmd}`);
  return id;
}

const setacl: Command = {
  names: ['SETACL'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name } = mailboxArg(session, args);
    const id = identifierArg(args);
    const mod = args.astring();
    args.end();
    const letters = mod.replace(/^[+-]/, '');
    for (const ch of letters) {
      if (!KNOWN_RIGHTS.includes(ch)) throw new ImapReplyError('BAD', `Invalid rights in ${args.cmd}`);
    }
    session.store.setAcl(session.who(), name, id, mod);
  },
};

const deleteacl: Command = {
  names: ['DELETEACL'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name } = mailboxArg(session, args);
    const id = identifierArg(args);
    args.end();
    session.store.setAcl(session.who(), name, id, null);
  },
};

const getacl: Command = {
  names: ['GETACL'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    args.end();
    requireRight(session, name, 'a');
    const info = session.store.lookup(name);
    if (!info) return { status: 'NO', code: 'NONEXISTENT', text: 'Mailbox does not exist' };
    let line = `ACL ${wire}`;
    for (const [id, rights] of aclEntries(info.acl)) line += ` ${astr(id, true)} ${astr(rights)}`;
    session.untagged(line);
  },
};

const listrights: Command = {
  names: ['LISTRIGHTS'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    const id = identifierArg(args);
    args.end();
    requireRight(session, name, 'a');
    const info = session.store.lookup(name);
    if (!info) return { status: 'NO', code: 'NONEXISTENT', text: 'Mailbox does not exist' };
    // the owner always keeps implicit_owner_rights: those cannot be taken away
    const required =
      info.owner !== null && info.owner === id
        ? (session.conf.getString('implicit_owner_rights') ?? 'lkxan')
        : '';
    const optional = GRANTABLE.filter((r) => !required.includes(r));
    session.untagged(
      `LISTRIGHTS ${wire} ${astr(id, true)} ${required ? astr(required) : '""'} ${optional.join(' ')}`,
    );
  },
};

const myrights: Command = {
  names: ['MYRIGHTS'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    const { name, wire } = mailboxArg(session, args);
    args.end();
    const r = session.store.rights(session.who(), name);
    session.untagged(`MYRIGHTS ${wire} ${r ? astr(r) : '""'}`);
  },
};

export default [setacl, deleteacl, getacl, listrights, myrights];
