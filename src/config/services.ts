/**
 * `listen=` resolution: port numbers, /etc/services names, host:port, [v6]:port, unix paths.
 *
 * `kind: 'tcp'` means an internet socket; the entry's proto says stream or datagram.
 *
 * Owns: parsing /etc/services (names and aliases) and turning one cyrus.conf `listen=` value into
 * ListenAddress records. Host names are left for the listener to resolve (getaddrinfo order), so
 * this module does no DNS. A service name missing from /etc/services is a ConfigError that says
 * which line to add, with the port the suite uses (`SUITE_PORTS`).
 *
 * Imports: node:fs, api.ts.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { ConfigError, type ListenAddress } from './api.js';

/** Ports of the suite's services; Debian's netbase lacks several of them (lmtp, smmap, csync, mupdate). */
export const SUITE_PORTS: Readonly<Record<string, number>> = {
  pop3: 110,
  nntp: 119,
  imap: 143,
  nntps: 563,
  imaps: 993,
  pop3s: 995,
  lmtp: 2003,
  smmap: 2004,
  csync: 2005,
  mupdate: 3905,
  sieve: 4190,
};

export const DEFAULT_SERVICES_FILE = '/etc/services';

const cache = new Map<string, { mtimeText: string; map: Map<string, number> }>();

/** name/proto → port from a services(5) file (cached per file content). */
function servicesMap(file: string): Map<string, number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return new Map();
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeText === text) return hit.map;
  const map = new Map<string, number>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^([0-9]+)\/([a-z0-9]+)$/i.exec(portProto ?? '');
    if (!name || !m) continue;
    const port = parseInt(m[1]!, 10);
    const proto = m[2]!.toLowerCase();
    for (const n of [name, ...aliases]) {
      const k = `${n}/${proto}`;
      if (!map.has(k)) map.set(k, port);
    }
  }
  cache.set(file, { mtimeText: text, map });
  return map;
}

/** Port of a service name in /etc/services (names and aliases), or undefined. */
export function lookupServicePort(
  name: string,
  proto: 'tcp' | 'udp' = 'tcp',
  servicesFile: string = DEFAULT_SERVICES_FILE,
): number | undefined {
  return servicesMap(servicesFile).get(`${name}/${proto}`);
}

/** The /etc/services line for a missing suite service (`lmtp 2003/tcp`), or a template. */
export function servicesLineFor(name: string, proto: 'tcp' | 'udp' = 'tcp'): string {
  const port = SUITE_PORTS[name];
  return port !== undefined ? `${name}\t\t${port}/${proto}` : `${name}\t\t<port>/${proto}`;
}

function baseProto(proto: string): 'tcp' | 'udp' {
  return proto.startsWith('udp') ? 'udp' : 'tcp';
}

function familyOf(proto: string): 4 | 6 | 0 {
  return proto.endsWith('4') ? 4 : proto.endsWith('6') ? 6 : 0;
}

/** A port: decimal number, or a service name looked up in the services file. */
export function resolvePort(
  port: string,
  proto: string,
  servicesFile: string = DEFAULT_SERVICES_FILE,
): number {
  if (/^[0-9]+$/.test(port)) {
    const n = parseInt(port, 10);
    if (n < 0 || n > 65535) throw new ConfigError(`port ${port} is out of range (0-65535)`);
    return n;
  }
  const p = baseProto(proto);
  const n = lookupServicePort(port, p, servicesFile);
  if (n === undefined) {
    throw new ConfigError(
      `service name '${port}' is missing from ${servicesFile}; add the line:  ${servicesLineFor(port, p).replace(/\t+/, ' ')}` +
        (SUITE_PORTS[port] === undefined ? ' (choose the port)' : '') +
        ' -- or write the port number in listen=',
      undefined,
      undefined,
      port,
    );
  }
  return n;
}

/**
 * A unix socket path: absolute as in Cyrus, or (our extension, for the development config run
 * from the project root) a relative path containing '/' and no ':' -- Cyrus would reject such a
 * value as an unknown service name, so no working Cyrus file changes meaning.
 */
export function isUnixPath(listen: string): boolean {
  return listen.startsWith('/') || (listen.includes('/') && !listen.includes(':') && !listen.startsWith('['));
}

/**
 * Resolve one `listen=` value (see spec cyrus-conf.md §3):
 *   `/path` (or relative `dir/sock`) ⇒ unix socket; `port` or `name` ⇒ every address; `host:port` (split at the last ':');
 *   `[addr]:port` (bracketed IPv4/IPv6 literal); `[addr]` (no port: 0).
 * `proto` is the entry's proto (`tcp`, `tcp4`, `udp6`, ...); its family narrows wildcard and names.
 * Throws ConfigError for an unknown service name or a malformed value.
 */
export function resolveListen(
  listen: string,
  proto = 'tcp',
  servicesFile: string = DEFAULT_SERVICES_FILE,
): ListenAddress[] {
  if (isUnixPath(listen)) return [{ kind: 'unix', path: listen }];
  const family = familyOf(proto);
  let host: string | null;
  let port: string;
  if (listen.startsWith('[')) {
    const close = listen.indexOf(']');
    if (close < 0) throw new ConfigError(`listen=${listen}: missing ']'`);
    host = listen.slice(1, close);
    const rest = listen.slice(close + 1);
    if (rest === '') port = '0';
    else if (rest.startsWith(':') && rest.length > 1) port = rest.slice(1);
    else throw new ConfigError(`listen=${listen}: expected ':port' after ']'`);
    if (isIP(host) === 0) throw new ConfigError(`listen=${listen}: '${host}' is not an IPv4 or IPv6 address`);
  } else {
    const colon = listen.lastIndexOf(':');
    if (colon >= 0) {
      host = listen.slice(0, colon);
      port = listen.slice(colon + 1);
      if (host === '' || port === '') throw new ConfigError(`listen=${listen}: expected host:port`);
    } else {
      host = null;
      port = listen;
    }
  }
  if (port === '') throw new ConfigError(`listen=${listen}: no port`);
  const n = resolvePort(port, proto, servicesFile);
  const ipFam = host ? isIP(host) : 0;
  const fam: 4 | 6 | 0 = ipFam === 4 ? 4 : ipFam === 6 ? 6 : family;
  if (ipFam !== 0 && family !== 0 && ipFam !== family) {
    throw new ConfigError(`listen=${listen}: address is IPv${ipFam} but proto=${proto}`);
  }
  return [{ kind: 'tcp', host, port: n, family: fam }];
}
