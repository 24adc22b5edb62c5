/**
 * Which Cyrus program names in cyrus.conf's `cmd=` are our built-in services and daemons.
 *
 * Owns: the name → module map. A module's default export is a `BuiltinService` (SERVICES) or a
 * `BuiltinDaemon` (DAEMON), see src/master/service-api.ts. Names are matched on the basename of
 * argv[0] with any `cyr_` prefix removed, so `cmd="imapd -s"`, `cmd="/usr/lib/cyrus/bin/imapd"`
 * and `cmd="cyr_imapd"` all select the same service. Modules are loaded lazily, only in the
 * worker that runs them.
 */
import { basename } from 'node:path';
import type { BuiltinDaemon, BuiltinService } from '../master/service-api.js';

/** program name → module path relative to this file */
const SERVICES: Record<string, string> = {
  imapd: '../protocols/imap/service.js',
  proxyd: '../protocols/imap/service.js',
  pop3d: '../protocols/pop3/service.js',
  lmtpd: '../protocols/lmtp/service.js',
  timsieved: '../protocols/managesieve/service.js',
  smmapd: '../protocols/smmap/service.js',
  nntpd: '../protocols/nntp/service.js',
  echo: './echo.js',
};

const DAEMONS: Record<string, string> = {
  idled: '../protocols/imap/idled.js',
  sleepd: './sleepd.js',
};

/** `imapd` for "/usr/lib/cyrus/bin/imapd", "cyr_imapd", "imapd" */
export function programName(argv0: string): string {
  return basename(argv0).replace(/^cyr_/, '');
}

export function isBuiltinService(argv0: string): boolean {
  return programName(argv0) in SERVICES;
}

export function isBuiltinDaemon(argv0: string): boolean {
  return programName(argv0) in DAEMONS;
}

export async function loadService(argv0: string): Promise<BuiltinService> {
  const rel = SERVICES[programName(argv0)];
  if (!rel) throw new Error(`${argv0} is not a built-in service`);
  const mod = (await import(new URL(rel, import.meta.url).href)) as { default: BuiltinService };
  return mod.default;
}

export async function loadDaemon(argv0: string): Promise<BuiltinDaemon> {
  const rel = DAEMONS[programName(argv0)];
  if (!rel) throw new Error(`${argv0} is not a built-in daemon`);
  const mod = (await import(new URL(rel, import.meta.url).href)) as { default: BuiltinDaemon };
  return mod.default;
}
