/**
 * NAMESPACE (RFC 2342): `tag NAMESPACE` → `* NAMESPACE (personal) (other users) (shared)`,
 * from the store's Namespace (altnamespace, unixhierarchysep, userprefix, sharedprefix).
 */
import type { Command } from '../command.js';

const namespace: Command = {
  names: ['NAMESPACE'],
  states: ['authenticated', 'selected'],
  run({ session }, args) {
    args.end();
    const ns = session.ns;
    const sep = ns.separator;
    const one = (prefix: string): string => `(("${prefix.replace(/[\\"]/g, '\\$&')}" "${sep}"))`;
    session.untagged(`NAMESPACE ${one(ns.personal)} ${one(ns.otherUsers)} ${one(ns.shared)}`);
  },
};
export default namespace;
