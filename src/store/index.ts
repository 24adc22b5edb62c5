/**
 * The store's entry point: `openStore(conf)` gives the `Store` of api.ts.
 * Protocols import this, api.ts, errors.ts and namespace.ts; nothing else of the store.
 */
import type { ImapdConf } from '../config/api.js';
import type { Logger } from '../log/logger.js';
import type { Store } from './api.js';
import { StoreImpl } from './store.js';

export { Namespace } from './namespace.js';
export { MailError } from './api.js';

export function openStore(conf: ImapdConf, opts: { log?: Logger } = {}): Store {
  return new StoreImpl(conf, opts);
}
