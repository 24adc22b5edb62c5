/**
 * Where the store keeps things on disk.
 *
 * Owns: paths. Message files: `<partition>/uuid/<u0>/<u1>/<uniqueid>/<uid>.` (Cyrus 3.6 UUID
 * layout; a rename never moves files). Incoming messages are spooled in `<partition>/stage./`
 * (same file system, so the final step is a rename). Index databases: one per user at
 * `{configdirectory}/user/<h>/<localpart>.index.db` (with a domain:
 * `{configdirectory}/domain/<d>/<domain>/user/<h>/<localpart>.index.db`), one per shared
 * mailbox at `{configdirectory}/shared/uuid/<u0>/<u1>/<uniqueid>.index.db`. Change stamps for
 * cross-process wake-ups live under mboxname_lockpath (ephemeral, may be tmpfs).
 * Imports: config, ./api, ./names.
 */
import { join } from 'node:path';
import type { ImapdConf } from '../config/api.js';
import { impliedPath } from '../config/imapd-conf.js';
import { MailError } from './api.js';
import { ownerOf, splitDomain } from './names.js';

/** Cyrus dir_hash_c without fulldirhash: first character if a-z, else 'q' */
export function hashChar(name: string): string {
  const c = name.charAt(0).toLowerCase();
  return c >= 'a' && c <= 'z' ? c : 'q';
}

/** which index database a mailbox lives in */
export type IndexKey = { kind: 'user'; userid: string } | { kind: 'shared'; uniqueId: string };

export class Layout {
  readonly configDir: string;
  readonly lockDir: string;
  readonly deletedPrefix: string;
  readonly #partitions: Map<string, string>;
  readonly #defaultPartition: string | null;

  constructor(conf: ImapdConf) {
    this.configDir = conf.configDirectory;
    this.lockDir = impliedPath(conf, 'mboxname_lockpath') ?? join(this.configDir, 'lock');
    this.deletedPrefix = conf.getString('deletedprefix') ?? 'DELETED';
    this.#partitions = conf.partitions();
    this.#defaultPartition = conf.getString('defaultpartition');
  }

  /** the partition new top-level mailboxes go to */
  defaultPartition(): string {
    if (this.#defaultPartition && this.#partitions.has(this.#defaultPartition)) return this.#defaultPartition;
    const first = [...this.#partitions.keys()].sort()[0];
    if (!first) throw new MailError('temp', 'no partition-<name> configured');
    return first;
  }

  hasPartition(name: string): boolean {
    return this.#partitions.has(name);
  }

  partitionPath(name: string): string {
    const p = this.#partitions.get(name);
    if (!p) throw new MailError('notFound', `unknown partition ${name}`);
    return p;
  }

  mailboxDir(partition: string, uniqueId: string): string {
    return join(this.partitionPath(partition), 'uuid', uniqueId.charAt(0), uniqueId.charAt(1), uniqueId);
  }

  messagePath(partition: string, uniqueId: string, uid: number): string {
    return join(this.mailboxDir(partition, uniqueId), `${uid}.`);
  }

  stageDir(partition: string): string {
    return join(this.partitionPath(partition), 'stage.');
  }

  indexKey(name: string, uniqueId: string): IndexKey {
    const owner = ownerOf(name, this.deletedPrefix);
    return owner !== null ? { kind: 'user', userid: owner } : { kind: 'shared', uniqueId };
  }

  indexPath(key: IndexKey): string {
    if (key.kind === 'shared') {
      const u = key.uniqueId;
      return join(this.configDir, 'shared', 'uuid', u.charAt(0), u.charAt(1), `${u}.index.db`);
    }
    const at = key.userid.lastIndexOf('@');
    const local = at >= 0 ? key.userid.slice(0, at) : key.userid;
    const domain = at >= 0 ? key.userid.slice(at + 1) : '';
    const file = `${local.replace(/\//g, '_')}.index.db`;
    if (domain)
      return join(this.configDir, 'domain', hashChar(domain), domain, 'user', hashChar(local), file);
    return join(this.configDir, 'user', hashChar(local), file);
  }

  /** the per-user index database of a userid */
  userIndexPath(userid: string): string {
    return this.indexPath({ kind: 'user', userid });
  }

  stampPath(uniqueId: string): string {
    return join(this.lockDir, 'stamp', uniqueId);
  }

  /** domain part of an internal name, for per-domain things */
  domainOf(name: string): string {
    return splitDomain(name).domain;
  }
}
