/**
 * The messages master and its worker processes exchange over the node IPC channel.
 *
 * Owns: the message types only. Listening handles travel as the second argument of
 * `child.send(msg, handle)` next to a `listener` message.
 *
 * Flow: master forks `worker.js` and sends `init`; the worker loads the service, calls `init`
 * and answers `ready`; master sends one `listener` message per bound socket (with the handle);
 * the worker answers `listening` when it accepts on all of them. While serving, the worker
 * reports its open connection count (`count`). When its connection quota (its share of
 * `maxchild`) is used up it closes its copies of the listeners, so further connections wait in
 * the kernel's listen queue; when a session ends it asks for the handles again (`want`).
 */

export type WorkerMode = 'service' | 'inetd' | 'daemon';

export interface InitMessage {
  t: 'init';
  /** cyrus.conf entry name */
  service: string;
  mode: WorkerMode;
  /** cmd= split on whitespace; argv[0] is the program */
  cmd: string[];
  /** inetd mode: the resolved executable to run per connection */
  exec?: string;
  /** imapd.conf for the service when cmd has no -C (master's -C) */
  configPath: string;
  procDir: string;
  /** max concurrent connections of this worker; -1 = unlimited */
  quota: number;
  backlog: number;
}

export type ToWorker =
  | InitMessage
  /** sent together with the listening handle number `idx` of `count` */
  | { t: 'listener'; idx: number; count: number }
  | { t: 'quota'; quota: number }
  /** stop accepting, let open sessions finish, then exit 0 (service changed or removed) */
  | { t: 'drain' }
  /** stop accepting, call the service's shutdown, close sessions, exit 0 */
  | { t: 'shutdown' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'listening' }
  | { t: 'count'; n: number }
  | { t: 'want' }
  /** `-U uses` reached: the worker stops accepting and exits after its sessions; replace it */
  | { t: 'retiring' };
