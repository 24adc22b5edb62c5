/**
 * `echo`: a trivial built-in service (writes back what it reads) for master's tests and
 * benchmarks. Says `+OK echo <service> <pid>` when a connection opens.
 *
 * Testing aids: `echo --fail-init` fails in `init`, so its worker dies at start (a crash loop for
 * master's back-off tests); a line `USER <name>` is echoed and recorded as the user in the
 * connection's proc file.
 */
import type { BuiltinService } from '../master/service-api.js';
import { procEntryOf } from '../master/procfile.js';

const echo: BuiltinService = {
  init(ctx) {
    if (ctx.argv.includes('--fail-init')) throw new Error('told to fail at init (--fail-init)');
  },
  serve(socket, ctx) {
    return new Promise<void>((resolve) => {
      socket.on('error', () => socket.destroy());
      socket.on('close', () => resolve());
      socket.write(`+OK echo ${ctx.service} ${process.pid}\r\n`);
      socket.on('data', (d: Buffer) => {
        const m = /^USER (\S+)/.exec(d.toString('latin1'));
        if (m) procEntryOf(socket)?.update({ user: m[1], command: 'USER' });
      });
      socket.pipe(socket);
    });
  },
  shutdown() {
    // sessions are closed by the worker after shutdown; nothing to say to clients
  },
};
export default echo;
