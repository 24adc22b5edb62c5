/**
 * COMPRESS (RFC 4978): `tag COMPRESS DEFLATE` → `tag OK DEFLATE active`, then everything in
 * both directions is raw DEFLATE. Refused when already compressing (`NO [COMPRESSIONACTIVE]`).
 */
import type { Command } from '../command.js';
import { DeflateStream } from '../compress.js';

const compress: Command = {
  names: ['COMPRESS'],
  states: ['authenticated', 'selected'],
  run({ session, tag }, args) {
    const alg = args.atom().toUpperCase();
    args.end();
    if (alg !== 'DEFLATE') return { status: 'BAD', text: 'Unknown compression algorithm' };
    if (session.compressed)
      return { status: 'NO', code: 'COMPRESSIONACTIVE', text: 'DEFLATE active via COMPRESS' };
    session.tagged(tag, { text: 'DEFLATE active' });
    session.out.flush();
    // anything the client sent after the command line is already compressed
    const pending = session.parser.takeBuffered();
    const old = session.sock;
    session.detach(old);
    session.replaceSocket(new DeflateStream(old, pending), { compressed: true });
    session.log.info('compression active');
    return { silent: true };
  },
};
export default compress;
