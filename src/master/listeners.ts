/**
 * Master's listening sockets: bind every `listen=` address of a SERVICES entry.
 *
 * Owns: `bindService` and `Listener`. Master binds (as root, before anything else could take the
 * port) but does not accept: it keeps the bound handle and passes it to its workers, whose
 * `listen()` puts the socket in listening state; every worker of a service accepts on the same
 * socket, so the kernel spreads connections across them. Because master keeps its copy open, a
 * socket stays listening when all workers have closed theirs (quota reached, crash, back-off):
 * new connections then wait in the listen queue (backlog `-l`) instead of being refused.
 *
 * The handles are libuv TCP/Pipe handles made by node's `net._createServerHandle` (the helper
 * node's cluster module uses for the same purpose: bind without listening).
 *
 * TCP: `proto=tcp` with no host binds `0.0.0.0` and `[::]` (IPV6_V6ONLY); `tcp4`/`tcp6` one of
 * them; a host name binds every address it resolves to. Unix: the parent directory is created,
 * a stale socket file removed, the socket made 0777. UDP is not supported (logged, disabled).
 *
 * Port names are looked up in /etc/services, or in the file named by `CYRUS_TS_SERVICES_FILE`
 * (a testing aid).
 *
 * Imports: node built-ins, src/config/services.ts (resolveListen).
 */
import { lookup } from 'node:dns/promises';
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { dirname } from 'node:path';
import { getSystemErrorName } from 'node:util';
import type { ListenAddress, ServiceEntry } from '../config/api.js';
import { resolveListen } from '../config/services.js';

/** A libuv server handle as node's internals expose it (only what we use). */
export interface ServerHandle {
  close(cb?: () => void): void;
  getsockname?(out: Record<string, unknown>): number;
}

export interface Listener {
  /** `127.0.0.1:143`, `[::]:143`, `/run/cyrus/socket/lmtp` */
  label: string;
  handle: ServerHandle;
  /** the bound port (TCP), useful when port 0 was asked for */
  port?: number;
  path?: string;
}

type CreateHandle = (
  address: string | null,
  port: number,
  addressType: number,
  fd?: number,
  flags?: number,
) => ServerHandle | number;
const createServerHandle = (net as unknown as { _createServerHandle: CreateHandle })._createServerHandle;
const UV_TCP_IPV6ONLY = 1;

function errnoText(code: number): string {
  try {
    return getSystemErrorName(code);
  } catch {
    return `error ${code}`;
  }
}

function bindTcp(host: string, port: number, family: 4 | 6): Listener {
  const h = createServerHandle(host, port, family, undefined, family === 6 ? UV_TCP_IPV6ONLY : undefined);
  const label = family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  if (typeof h === 'number') throw new Error(`unable to bind to ${label}: ${errnoText(h)}`);
  const out: Record<string, unknown> = {};
  h.getsockname?.(out);
  const bound = typeof out.port === 'number' ? out.port : port;
  return { label: family === 6 ? `[${host}]:${bound}` : `${host}:${bound}`, handle: h, port: bound };
}

function bindUnix(path: string): Listener {
  mkdirSync(dirname(path), { recursive: true });
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* absent */
  }
  const h = createServerHandle(path, -1, -1);
  if (typeof h === 'number') throw new Error(`unable to bind to ${path}: ${errnoText(h)}`);
  chmodSync(path, 0o777);
  return { label: path, handle: h, path };
}

async function bindAddress(a: ListenAddress, proto: ServiceEntry['proto']): Promise<Listener[]> {
  if (a.kind === 'unix') return [bindUnix(a.path)];
  const want4 = proto !== 'tcp6' && a.family !== 6;
  const want6 = proto !== 'tcp4' && a.family !== 4;
  if (a.host === null || a.host === '' || a.host === '*') {
    const out: Listener[] = [];
    if (want4) out.push(bindTcp('0.0.0.0', a.port, 4));
    // the IPv6 wildcard may be unavailable (no IPv6 in this kernel): then IPv4 alone is fine
    if (want6) {
      try {
        const port = a.port === 0 && out[0]?.port ? out[0].port : a.port;
        out.push(bindTcp('::', port, 6));
      } catch (err) {
        if (out.length === 0) throw err;
      }
    }
    return out;
  }
  if (net.isIP(a.host)) {
    const fam = net.isIP(a.host) as 4 | 6;
    if ((fam === 4 && !want4) || (fam === 6 && !want6))
      throw new Error(`address ${a.host} does not match proto=${proto}`);
    return [bindTcp(a.host, a.port, fam)];
  }
  const addrs = await lookup(a.host, { all: true });
  const out: Listener[] = [];
  for (const { address, family } of addrs) {
    if ((family === 4 && want4) || (family === 6 && want6))
      out.push(bindTcp(address, a.port, family as 4 | 6));
  }
  if (out.length === 0) throw new Error(`${a.host} has no address for proto=${proto}`);
  return out;
}

/**
 * Bind all sockets of one SERVICES entry. Throws (with a message naming the address) when the
 * listen= value cannot be resolved or a bind fails; nothing stays bound then.
 */
export async function bindService(entry: Pick<ServiceEntry, 'listen' | 'proto'>): Promise<Listener[]> {
  if (entry.proto.startsWith('udp')) throw new Error(`proto=${entry.proto} is not supported`);
  const addrs = resolveListen(entry.listen, entry.proto, process.env.CYRUS_TS_SERVICES_FILE || undefined);
  const out: Listener[] = [];
  try {
    for (const a of addrs) out.push(...(await bindAddress(a, entry.proto)));
  } catch (err) {
    closeListeners(out);
    throw err;
  }
  return out;
}

export function closeListeners(ls: Listener[]): void {
  for (const l of ls) {
    try {
      l.handle.close();
    } catch {
      /* already closed */
    }
  }
}
