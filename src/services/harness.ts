/**
 * Run a built-in service on a loopback port without cyr_master: for tests and benchmarks.
 *
 * Owns: `serveForTest`, which binds 127.0.0.1 on a free port (or a unix socket path), calls the
 * service's init once and serve for every connection, and returns a stop function that shuts the
 * service down and closes every socket it accepted.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ImapdConf } from '../config/api.js';
import { memoryLogger, createLogger, type Logger } from '../log/logger.js';
import type { BuiltinService, ServiceContext } from '../master/service-api.js';

export interface TestServer {
  port: number;
  /** set when listening on a unix socket */
  path?: string;
  ctx: ServiceContext;
  stop(): Promise<void>;
}

export async function serveForTest(
  service: BuiltinService,
  opts: {
    config: ImapdConf;
    service?: string;
    argv?: string[];
    log?: Logger;
    path?: string;
    quiet?: boolean;
  },
): Promise<TestServer> {
  const abort = new AbortController();
  const log =
    opts.log ??
    (opts.quiet === false ? createLogger(opts.service ?? 'test') : memoryLogger(opts.service ?? 'test'));
  const ctx: ServiceContext = {
    service: opts.service ?? opts.config.service,
    argv: opts.argv ?? [],
    config: opts.config,
    log,
    signal: abort.signal,
  };
  await service.init?.(ctx);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    Promise.resolve(service.serve(sock, ctx)).catch((err: unknown) => {
      log.error(`serve failed: ${String(err)}`);
      sock.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (opts.path) server.listen(opts.path, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    path: opts.path,
    ctx,
    async stop() {
      abort.abort();
      // stop accepting now; close() only calls back once every accepted socket is gone
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await service.shutdown?.(ctx);
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
