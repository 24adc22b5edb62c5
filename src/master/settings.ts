/**
 * What master takes from imapd.conf, and the ephemeral directories it prepares.
 *
 * Owns: `masterSettings` (configdirectory, proc dir, pid/ready file defaults, logging options)
 * and `makeEphemeralDirs`. Ephemeral state (ARCHITECTURE decision 4) may live on a fresh tmpfs:
 * master creates the directories for proc_path, mboxname_lockpath, {configdirectory}/socket and
 * the parent directories of duplicate_db_path, statuscache_db_path, ptscache_db_path,
 * tls_sessions_db_path, lmtpsocket, idlesocket and notifysocket before anything runs.
 *
 * Imports: node built-ins, src/config types.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { ImapdConf } from '../config/api.js';

/** Cyrus's locations for path options that have no default in the option table. */
const IMPLIED: Record<string, string> = {
  proc_path: 'proc',
  mboxname_lockpath: 'lock',
  duplicate_db_path: 'deliver.db',
  statuscache_db_path: 'statuscache.db',
  ptscache_db_path: 'ptclient/ptscache.db',
  tls_sessions_db_path: 'tls_sessions.db',
  lmtpsocket: 'socket/lmtp',
  idlesocket: 'socket/idle',
  notifysocket: 'socket/notify',
  master_pid_file: 'master.pid',
  master_ready_file: 'master.ready',
};

function get<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** A path option's value, else its Cyrus location under configdirectory (absolute). */
export function pathOption(conf: ImapdConf, name: string): string {
  const v = get(() => conf.getString(name), null);
  return resolve(v ?? join(conf.configDirectory, IMPLIED[name] ?? name));
}

export interface MasterSettings {
  configDirectory: string;
  procDir: string;
  pidFile: string;
  readyFile: string;
  debug: boolean;
  syslogPrefix: string | undefined;
  bindErrorsFatal: boolean;
}

export function masterSettings(conf: ImapdConf): MasterSettings {
  return {
    configDirectory: resolve(conf.configDirectory),
    procDir: pathOption(conf, 'proc_path'),
    pidFile: pathOption(conf, 'master_pid_file'),
    readyFile: pathOption(conf, 'master_ready_file'),
    debug: get(() => conf.getSwitch('debug'), false),
    syslogPrefix: get(() => conf.getString('syslog_prefix'), null) ?? undefined,
    bindErrorsFatal: get(() => conf.getSwitch('master_bind_errors_fatal'), false),
  };
}

/** Create every ephemeral directory (see the header); returns the list. */
export function makeEphemeralDirs(conf: ImapdConf): string[] {
  const dirs = [
    pathOption(conf, 'proc_path'),
    pathOption(conf, 'mboxname_lockpath'),
    join(resolve(conf.configDirectory), 'socket'),
    ...[
      'duplicate_db_path',
      'statuscache_db_path',
      'ptscache_db_path',
      'tls_sessions_db_path',
      'lmtpsocket',
      'idlesocket',
      'notifysocket',
    ].map((n) => dirname(pathOption(conf, n))),
  ];
  const unique = [...new Set(dirs)];
  for (const d of unique) mkdirSync(d, { recursive: true });
  return unique;
}
