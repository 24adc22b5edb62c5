/**
 * The password store a program uses, chosen by `sasl_pwcheck_method` (Cyrus SASL's option,
 * read through conf.getSasl so `<service>_sasl_pwcheck_method` overrides work).
 *
 * Methods: `auxprop` (default) = our sasldb at `sasl_sasldb_path` (see sasldb.ts);
 * `saslauthd` = the daemon at `sasl_saslauthd_path` (see saslauthd.ts). As in Cyrus SASL
 * the option may list several ("auxprop saslauthd"): a password is accepted when any of
 * them accepts it, and SCRAM secrets / cleartext come from the first store that has them.
 * `pwcheck` (the old pwcheck daemon) and `alwaystrue` are refused: the first is gone from
 * Cyrus SASL 2.1.28 builds, the second would be a hole.
 *
 * Imports: the config contract, auth contract and the two stores.
 */
import type { ImapdConf } from '../config/api.js';
import { ConfigError } from '../config/api.js';
import type { PasswordStore, ScramHash, ScramSecret } from './api.js';
import { SasldbStore } from './sasldb.js';
import { SaslauthdStore } from './saslauthd.js';

export { SasldbStore } from './sasldb.js';
export { SaslauthdStore, saslauthdRequest } from './saslauthd.js';

export const DEFAULT_SASLDB_PATH = '/etc/sasldb2';
export const DEFAULT_SASLAUTHD_PATH = '/run/saslauthd/mux';

/** The sasldb path this conf names (sasl_sasldb_path, default /etc/sasldb2). */
export function sasldbPath(conf: ImapdConf): string {
  return conf.getSasl('sasldb_path') ?? DEFAULT_SASLDB_PATH;
}

/** Several stores tried in order. */
class ChainStore implements PasswordStore {
  constructor(private readonly stores: PasswordStore[]) {}
  async verify(userid: string, password: string, service: string): Promise<boolean> {
    for (const s of this.stores) if (await s.verify(userid, password, service)) return true;
    return false;
  }
  async scram(userid: string, hash: ScramHash): Promise<ScramSecret | null> {
    for (const s of this.stores) {
      const v = await s.scram(userid, hash);
      if (v) return v;
    }
    return null;
  }
  async cleartext(userid: string): Promise<string | null> {
    for (const s of this.stores) {
      const v = await s.cleartext(userid);
      if (v !== null) return v;
    }
    return null;
  }
  async exists(userid: string): Promise<boolean> {
    for (const s of this.stores) if (await s.exists(userid)) return true;
    return false;
  }
}

export interface StoreChoice {
  store: PasswordStore;
  /** which methods are in use, in order */
  methods: string[];
  /** true when some store can give SCRAM secrets (so SCRAM mechanisms are worth offering) */
  hasSecrets: boolean;
}

/** Open the store(s) named by sasl_pwcheck_method. Throws ConfigError for an unknown method. */
export function openPasswordStore(conf: ImapdConf, onError?: (msg: string) => void): StoreChoice {
  const methods = (conf.getSasl('pwcheck_method') ?? 'auxprop').split(/\s+/).filter(Boolean);
  const stores: PasswordStore[] = [];
  for (const m of methods) {
    if (m === 'auxprop') stores.push(new SasldbStore(sasldbPath(conf)));
    else if (m === 'saslauthd')
      stores.push(new SaslauthdStore(conf.getSasl('saslauthd_path') ?? DEFAULT_SASLAUTHD_PATH, onError));
    else
      throw new ConfigError(
        `sasl_pwcheck_method: unsupported method "${m}" (use auxprop or saslauthd)`,
        conf.path,
        undefined,
        'sasl_pwcheck_method',
      );
  }
  if (stores.length === 0)
    throw new ConfigError('sasl_pwcheck_method is empty', conf.path, undefined, 'sasl_pwcheck_method');
  return {
    store: stores.length === 1 ? stores[0] : new ChainStore(stores),
    methods,
    hasSecrets: methods.includes('auxprop'),
  };
}
