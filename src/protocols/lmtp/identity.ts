/**
 * What the delivery-side services say about themselves: the server name in greetings and
 * trace headers, the product string per `serverinfo` (off/min/on), the shutdown message, and session ids in
 * Cyrus's shape `<servername>-<time>-<pid>-<counter>-<random>` (cyrus-observed.md §2).
 * Shared by lmtpd, pop3d and cyr_deliver.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ImapdConf } from '../../config/api.js';

let version: string | null = null;

/** our version from package.json (dist/src/protocols/lmtp → project root) */
export function suiteVersion(): string {
  if (version !== null) return version;
  version = '0.0.0';
  for (const rel of ['../../../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'cyrus-ts' && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      /* try the next location */
    }
  }
  return version;
}

export function serverName(conf: ImapdConf): string {
  return conf.getString('servername') || hostname();
}

/** "Cyrus <proto> cyrus-ts-<version>" (on), "Cyrus <proto>" (min), "" (off) */
export function product(conf: ImapdConf, proto: 'LMTP' | 'POP3'): string {
  const info = conf.getEnum('serverinfo');
  if (info === 'off') return '';
  if (info === 'min') return `Cyrus ${proto}`;
  return `Cyrus ${proto} cyrus-ts-${suiteVersion()}`;
}

let counter = 0;

export function newSessionId(conf: ImapdConf): string {
  counter++;
  const rnd = randomBytes(8).readBigUInt64BE().toString();
  return `${serverName(conf)}-${Math.floor(Date.now() / 1000)}-${process.pid}-${counter}-${rnd}`;
}

/** "[1.2.3.4]:port" for TCP peers, "unix" for unix-socket peers */
export function remoteOf(socket: { remoteAddress?: string; remotePort?: number }): string {
  return socket.remoteAddress ? `[${socket.remoteAddress}]:${socket.remotePort ?? 0}` : 'unix';
}

/**
 * The administrator's shutdown message (services.md §1): the first line of
 * `{configdirectory}/msg/shutdown.<service>` or else `msg/shutdown`; null when neither exists.
 * While it exists the service refuses new sessions with that text.
 */
export function shutdownMessage(conf: ImapdConf): string | null {
  for (const name of [`shutdown.${conf.service}`, 'shutdown']) {
    const path = join(conf.configDirectory, 'msg', name);
    // usually absent: a stat that does not throw is cheaper than a failed read
    if (!statSync(path, { throwIfNoEntry: false })) continue;
    try {
      const first = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
      return first.replace(/[^\x20-\x7e]/g, ' ').slice(0, 500) || 'Server is shut down';
    } catch {
      /* not there */
    }
  }
  return null;
}

/**
 * `-p <ssf>` (services.md §1): the connection is protected by an external layer (stunnel, a
 * trusted local network); an SSF of 2 or more counts as encrypted for cleartext passwords.
 */
export function externalSsf(argv: string[]): number {
  const i = argv.indexOf('-p');
  const v = i >= 0 ? Number(argv[i + 1]) : 0;
  return Number.isFinite(v) && v > 0 ? v : 0;
}
