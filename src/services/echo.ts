/**
 * `echo`: a trivial built-in service (writes back what it reads) for master's tests and
 * benchmarks. Says `+OK echo <service> <pid>` when a connection opens.
 *
 * Testing aid: `echo --fail-init` fails in `init`, so its worker dies at start (a crash loop for
 * master's back-off tests).
 */
import type { BuiltinService } from '../master/service-api.js';

const echo: BuiltinService = {
  init(ctx) {
    if (ctx.argv.includes('--fail-init')) throw new Error('told to fail at init (--fail-init)');
  },
  serve(socket, ctx) {
    return new Promise<void>((resolve) => {
      socket.on('error', () => socket.destroy());
      socket.on('close', () => resolve());
      socket.write(`+OK echo ${ctx.service} ${process.pid}\r\n`);
      socket.pipe(socket);
    });
  },
  shutdown() {
    // sessions are closed by the worker after shutdown; nothing to say to clients
  },
};
export default echo;
