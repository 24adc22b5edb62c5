/**
 * The contract between cyr_master's worker runtime and a built-in service
 * (imapd, pop3d, lmtpd, timsieved, smmapd, nntpd, ... and daemons such as idled).
 *
 * A service module's default export is a `BuiltinService`. The worker process that master
 * forks loads it by program name through `src/services/registry.ts`, calls `init` once, then
 * `serve` for every connection accepted on the listener(s) master passed it. A test can do
 * the same without master: make a net.Server and call `serve` from its 'connection' handler
 * (see `serveForTest` in src/services/harness.ts).
 *
 * Under master every connection has a proc file (`cyr_info proc`); a service records who is
 * logged in and what they do with `procEntryOf(socket)?.update({ user, mailbox, command })`
 * from src/master/procfile.ts.
 */
import type { Socket } from 'node:net';
import type { ImapdConf } from '../config/api.js';
import type { Logger } from '../log/logger.js';

export interface ServiceContext {
  /** the cyrus.conf entry name (`imap`, `imaps`, `lmtpunix`, ...): syslog ident and override prefix */
  service: string;
  /** arguments after the program name in `cmd=` (e.g. ["-s"] for imapd -s) */
  argv: string[];
  /** imapd.conf read with this service's identity (honours -C in argv) */
  config: ImapdConf;
  log: Logger;
  /** aborted when the worker must stop (SIGTERM from master, shutdown) */
  signal: AbortSignal;
}

export interface BuiltinService {
  /** Called once per worker before the first connection; parse argv here. */
  init?(ctx: ServiceContext): void | Promise<void>;
  /**
   * Serve one accepted connection until it ends. `socket` is a TCP or unix stream socket.
   * The promise settles when the session is over; errors are the service's to log, never to throw.
   */
  serve(socket: Socket, ctx: ServiceContext): void | Promise<void>;
  /** Stop: say BYE/421 to open sessions if the protocol has one, close them, release resources. */
  shutdown?(ctx: ServiceContext): void | Promise<void>;
}

/** A DAEMON-section built-in (idled, ...): runs until the signal aborts. */
export interface BuiltinDaemon {
  run(ctx: ServiceContext): Promise<void>;
}
