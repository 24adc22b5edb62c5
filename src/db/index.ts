/**
 * Opening cyrusdb databases by backend name, and by role from imapd.conf.
 *
 * Owns: the backend registry and `openDb(path, backendName)`. Cyrus's backend names
 * (twoskip, skiplist, flat, quotalegacy, sql, zeroskip, lmdb, berkeley*) are served by
 * `sqlite` with a warning, so a real Cyrus imapd.conf works unchanged. `openConfDb(conf, role)`
 * finds a role's path (`<role>_db_path` or Cyrus's implied default) and backend (`<role>_db`).
 * Imports: ./api, ./sqlite, config types and option table, log types.
 */
import type { ImapdConf } from '../config/api.js';
import { IMPLIED_PATHS } from '../config/imapoptions.js';
import type { Logger } from '../log/logger.js';
import { DbError, type CyrusDb, type DbBackendOpen, type DbOpenOptions } from './api.js';
import { openSqlite } from './sqlite.js';

export * from './api.js';

const BACKENDS = new Map<string, DbBackendOpen>([['sqlite', openSqlite]]);

/** Cyrus backend names we accept and serve with sqlite */
const CYRUS_NAMES = new Set(['twoskip', 'skiplist', 'flat', 'quotalegacy', 'sql', 'zeroskip', 'lmdb']);

/** add a backend (e.g. `pgsql`); it must pass backend-suite.ts */
export function registerBackend(name: string, open: DbBackendOpen): void {
  BACKENDS.set(name, open);
}

export function backendNames(): string[] {
  return [...BACKENDS.keys()];
}

/** the backend that will really serve `name`, and whether it was mapped from a Cyrus name */
export function resolveBackend(name: string): { backend: string; mapped: boolean } {
  const n = name.trim().toLowerCase();
  if (BACKENDS.has(n)) return { backend: n, mapped: false };
  if (CYRUS_NAMES.has(n) || n.startsWith('berkeley')) return { backend: 'sqlite', mapped: true };
  throw new DbError('internal', `unknown cyrusdb backend "${name}" (known: ${backendNames().join(', ')})`);
}

/**
 * Open the database file at `path` with the named backend.
 * Throws DbError('notFound') for a missing file when `create: false`, DbError('internal') for an
 * unknown backend name.
 */
export function openDb(
  path: string,
  backendName = 'sqlite',
  opts: DbOpenOptions & { log?: Logger } = {},
): CyrusDb {
  const { backend, mapped } = resolveBackend(backendName);
  if (mapped) opts.log?.warning(`cyrusdb: backend "${backendName}" for ${path} is served by ${backend}`);
  return BACKENDS.get(backend)!(path, opts);
}

/** the small databases a program may ask for by role */
export type DbRole =
  | 'mboxlist'
  | 'annotation'
  | 'quota'
  | 'duplicate'
  | 'statuscache'
  | 'tls_sessions'
  | 'ptscache'
  | 'userdeny'
  | 'sync_cache';

/** the file of a role's database: `<role>_db_path`, else Cyrus's default under configdirectory */
export function confDbPath(conf: ImapdConf, role: DbRole): string {
  const opt = `${role}_db_path`;
  const set = conf.getString(opt);
  if (set) return set;
  const implied = IMPLIED_PATHS[opt];
  if (!implied) throw new DbError('internal', `no path known for ${role} database`);
  return implied.replace('{configdirectory}', conf.configDirectory);
}

/** the backend named by `<role>_db` (default sqlite) */
export function confDbBackend(conf: ImapdConf, role: DbRole): string {
  try {
    return conf.getEnum(`${role}_db`) || 'sqlite';
  } catch {
    return 'sqlite';
  }
}

/** open a role's database as configured (created when missing) */
export function openConfDb(
  conf: ImapdConf,
  role: DbRole,
  opts: DbOpenOptions & { log?: Logger } = {},
): CyrusDb {
  return openDb(confDbPath(conf, role), confDbBackend(conf, role), opts);
}

/** every role whose database is persistent (archived by `ctl_cyrusdb -c`) */
export const PERSISTENT_ROLES: readonly DbRole[] = ['mboxlist', 'annotation', 'quota'];
/** roles that may live on tmpfs (ARCHITECTURE decision 4): synced, never archived */
export const EPHEMERAL_ROLES: readonly DbRole[] = ['duplicate', 'statuscache', 'tls_sessions', 'ptscache'];
