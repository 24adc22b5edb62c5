/**
 * USER <name>  (RFC 1939 7). Always "+OK" (no user enumeration, as Cyrus); refused when
 * cleartext passwords are not allowed on this connection (allowplaintext / TLS).
 */
import type { PopCommand } from './index.js';
import { E } from '../replies.js';

export const user: PopCommand = {
  verb: 'USER',
  states: ['authorization'],
  run(s, args, line) {
    if (s.state.kind !== 'authorization') return;
    const name = line.slice(5);
    if (args.length === 0 || name.trim() === '' || name.length > 255) return s.line(E.syntax);
    if (!s.deps.auth.plaintextAllowed(s.secure)) return s.line(E.plaintextDenied);
    s.state = { kind: 'authorization', user: name };
    s.line('+OK Name is a valid mailbox');
  },
};
