/**
 * STARTTLS (RFC 3501 §6.2.1): `tag STARTTLS` → `tag OK Begin TLS negotiation now`, then the
 * handshake. Input sent before the handshake is discarded (no command injection), and the
 * capabilities change (AUTH= mechanisms, LOGINDISABLED) for the rest of the session.
 */
import type { Command } from '../command.js';

const starttls: Command = {
  names: ['STARTTLS'],
  states: ['notAuthenticated'],
  async run({ session, tag }, args) {
    args.end();
    const start = session.deps.startTls;
    if (!start || session.secure)
      return {
        status: session.secure ? 'BAD' : 'NO',
        text: session.secure ? 'Already successfully executed STARTTLS' : 'TLS not available',
      };
    session.tagged(tag, { text: 'Begin TLS negotiation now' });
    session.out.flush();
    session.parser.discardBuffered();
    const old = session.sock;
    session.detach(old);
    try {
      const tls = await start(old);
      session.tlsSocket = tls as import('node:tls').TLSSocket;
      session.replaceSocket(tls);
    } catch (e) {
      session.log.notice(`STARTTLS failed: ${e instanceof Error ? e.message : String(e)}`);
      session.state = { kind: 'logout' };
      old.destroy();
    }
    session.log.info('starttls done');
    // the tagged reply was already sent
    return { silent: true };
  },
};
export default starttls;
