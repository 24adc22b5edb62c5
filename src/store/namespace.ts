/**
 * The IMAP namespace: what a client sees vs the store's internal names (RFC 2342 NAMESPACE).
 *
 * Owns: conversion between external names (INBOX, INBOX.Sent or Sent with altnamespace,
 * `user.bob` or `Other Users/bob`, shared `foo` or `Shared Folders/foo`, '.' or '/' separator)
 * and internal names (`user.fred.Sent`, `example.com!user.bob`, `foo`), honouring
 * altnamespace, unixhierarchysep ('.' in a visible name is stored as '^'), userprefix,
 * sharedprefix, virtdomains/defaultdomain and case-insensitive INBOX.
 * Imports: config types, ./api, ./names.
 */
import type { ImapdConf } from '../config/api.js';
import { MailError } from './api.js';
import { checkInternalName, joinDomain, splitDomain, userInbox } from './names.js';

export class Namespace {
  readonly separator: '.' | '/';
  /** personal namespace prefix: '' with altnamespace, else 'INBOX' + separator */
  readonly personal: string;
  /** other users' prefix: 'user' + sep, or userprefix + sep with altnamespace */
  readonly otherUsers: string;
  /** shared prefix: '' or sharedprefix + sep with altnamespace */
  readonly shared: string;
  readonly altNamespace: boolean;
  readonly virtDomains: boolean;
  readonly defaultDomain: string;
  readonly #userPrefix: string;
  readonly #sharedPrefix: string;

  /**
   * `opts.admin`: the namespace an administrator sees. Cyrus never gives admins the alternate
   * namespace (mboxname_init_namespace: isalt = !isadmin && altnamespace), so cyradm always
   * works with `user/fred` and `INBOX/...`, whatever `altnamespace` says.
   */
  constructor(conf: ImapdConf, opts: { admin?: boolean } = {}) {
    this.altNamespace = !opts.admin && conf.getSwitch('altnamespace');
    this.separator = conf.getSwitch('unixhierarchysep') ? '/' : '.';
    this.virtDomains = conf.getEnum('virtdomains') !== 'off';
    this.defaultDomain = conf.getString('defaultdomain') ?? '';
    this.#userPrefix = conf.getString('userprefix') ?? 'Other Users';
    this.#sharedPrefix = conf.getString('sharedprefix') ?? 'Shared Folders';
    const s = this.separator;
    this.personal = this.altNamespace ? '' : `INBOX${s}`;
    this.otherUsers = this.altNamespace ? `${this.#userPrefix}${s}` : `user${s}`;
    this.shared = this.altNamespace ? `${this.#sharedPrefix}${s}` : '';
  }

  /** the internal INBOX name of `userid` */
  inbox(userid: string): string {
    return userInbox(userid, this.virtDomains, this.defaultDomain);
  }

  /** the domain part of a userid's mailboxes ('' for none) */
  #domainOf(userid: string): string {
    return splitDomain(this.inbox(userid)).domain;
  }

  /** external components → internal components ('.' → '^' under '/') */
  #compsIn(comps: string[]): string {
    for (const c of comps) {
      if (c.length === 0) throw new MailError('badName', 'invalid mailbox name: empty hierarchy level');
      if (c === '.' || c === '..') throw new MailError('badName', 'invalid mailbox name: dot component');
      if (this.virtDomains && c.includes('!')) throw new MailError('badName', "invalid mailbox name: '!'");
    }
    return (this.separator === '/' ? comps.map((c) => c.replace(/\./g, '^')) : comps).join('.');
  }

  #compsOut(internal: string): string {
    const comps = internal.split('.');
    return (this.separator === '/' ? comps.map((c) => c.replace(/\^/g, '.')) : comps).join(this.separator);
  }

  /**
   * The internal name for what `userid` typed. Throws MailError('badName') for names that are
   * empty, have empty levels, '.'/'..' levels, control characters, or are too long.
   */
  toInternal(external: string, userid: string): string {
    const s = this.separator;
    if (external.length === 0 || /[\u0000-\u001f\u007f]/.test(external)) {
      throw new MailError('badName', 'invalid mailbox name');
    }
    const comps = external.split(s);
    const domain = this.#domainOf(userid);
    const inbox = this.inbox(userid);
    let internal: string;
    if (comps[0]!.toUpperCase() === 'INBOX') {
      internal = comps.length === 1 ? inbox : `${inbox}.${this.#compsIn(comps.slice(1))}`;
    } else if (external.startsWith(this.otherUsers) || external === this.otherUsers.slice(0, -1)) {
      const rest = comps.slice(this.otherUsers.split(s).length - 1);
      if (rest.length === 0 || rest[0] === '')
        throw new MailError('badName', 'invalid mailbox name: no user');
      const [who, ...sub] = rest;
      let d = domain;
      let userLocal = who!;
      if (this.virtDomains && who!.includes('@')) {
        const at = who!.lastIndexOf('@');
        userLocal = who!.slice(0, at);
        d = who!.slice(at + 1).toLowerCase();
        if (d === this.defaultDomain.toLowerCase()) d = '';
      }
      const tail = sub.length ? `.${this.#compsIn(sub)}` : '';
      internal = joinDomain(d, `user.${this.#compsIn([userLocal])}${tail}`);
    } else if (this.altNamespace) {
      if (this.shared && (external.startsWith(this.shared) || external === this.#sharedPrefix)) {
        const rest = comps.slice(this.shared.split(s).length - 1);
        if (rest.length === 0) throw new MailError('badName', 'invalid mailbox name: shared prefix alone');
        internal = joinDomain(domain, this.#compsIn(rest));
      } else {
        internal = `${inbox}.${this.#compsIn(comps)}`;
      }
    } else {
      internal = joinDomain(domain, this.#compsIn(comps));
    }
    checkInternalName(internal);
    return internal;
  }

  /**
   * The name `userid` sees for an internal name, or null when it has no name in that user's
   * namespace (another domain's mailbox).
   */
  toExternal(internal: string, userid: string): string | null {
    const { domain, local } = splitDomain(internal);
    const myDomain = this.#domainOf(userid);
    const inbox = this.inbox(userid);
    if (internal === inbox) return 'INBOX';
    if (internal.startsWith(inbox + '.')) {
      const rest = this.#compsOut(internal.slice(inbox.length + 1));
      return this.altNamespace ? rest : `INBOX${this.separator}${rest}`;
    }
    if (domain !== myDomain) return null;
    if (local === 'user' || local.startsWith('user.')) {
      if (local === 'user') return this.otherUsers.slice(0, -1);
      return this.otherUsers + this.#compsOut(local.slice(5));
    }
    return this.shared + this.#compsOut(local);
  }
}
