/**
 * `echo`: a trivial built-in service (writes back what it reads) for master's tests and
 * benchmarks. Says `+OK echo <service> <pid>` when a connection opens.
 */
import type { BuiltinService } from '../master/service-api.js';

const echo: BuiltinService = {
  serve(socket, ctx) {
    return new Promise<void>((resolve) => {
      socket.on('error', () => socket.destroy());
      socket.on('close', () => resolve());
      socket.write(`+OK echo ${ctx.service} ${process.pid}\r\n`);
      socket.pipe(socket);
    });
  },
};
export default echo;
