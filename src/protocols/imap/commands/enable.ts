/**
 * ENABLE (RFC 5161): `tag ENABLE cap...` → `* ENABLED <the ones newly enabled>`.
 * Known: CONDSTORE and QRESYNC (RFC 7162; QRESYNC implies CONDSTORE), IMAP4rev2 (RFC 9051:
 * UTF-8 mailbox names, no \Recent, ESEARCH answers to SEARCH, LIST in SELECT, \NonExistent),
 * UTF8=ACCEPT (RFC 6855, when offered: UTF-8 names and strings, APPEND UTF8 (~{n})). Unknown names (and extensions we do not offer) are
 * ignored, as the RFC says.
 */
import { utf8Accept } from '../capabilities.js';
import type { Command } from '../command.js';

const SUPPORTED = ['CONDSTORE', 'QRESYNC', 'IMAP4REV2'];
/** how each is spelled in ENABLED */
const SPELLING: Record<string, string> = { IMAP4REV2: 'IMAP4rev2' };

const enable: Command = {
  names: ['ENABLE'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    if (args.remaining === 0) args.take();
    const newly: string[] = [];
    while (args.remaining > 0) {
      const cap = args.atom().toUpperCase();
      const add = (c: string): void => {
        if (!session.enabled.has(c)) {
          session.enabled.add(c);
          newly.push(c);
        }
      };
      if (cap === 'UTF8=ACCEPT' && utf8Accept(session.conf)) add(cap);
      else if (SUPPORTED.includes(cap)) {
        // RFC 7162 §3.2.3: enabling QRESYNC implies CONDSTORE
        if (cap === 'QRESYNC') add('CONDSTORE');
        add(cap);
      }
    }
    session.untagged(`ENABLED${newly.map((c) => ' ' + (SPELLING[c] ?? c)).join('')}`);
  },
};
export default enable;
