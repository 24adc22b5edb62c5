/**
 * ENABLE (RFC 5161): `tag ENABLE cap...` → `* ENABLED <the ones newly enabled>`.
 * Known: CONDSTORE and QRESYNC (RFC 7162; QRESYNC implies CONDSTORE). Unknown names (and extensions we do not offer) are
 * ignored, as the RFC says.
 */
import type { Command } from '../command.js';

const SUPPORTED = ['CONDSTORE', 'QRESYNC'];

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
      if (SUPPORTED.includes(cap)) {
        // RFC 7162 §3.2.3: enabling QRESYNC implies CONDSTORE
        if (cap === 'QRESYNC') add('CONDSTORE');
        add(cap);
      }
    }
    session.untagged(`ENABLED${newly.map((c) => ' ' + c).join('')}`);
  },
};
export default enable;
