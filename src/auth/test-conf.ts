/**
 * An `ImapdConf` for the auth and net tests: the real reader (src/config/imapd-conf.ts) fed
 * with `key: value` lines built from a record, so tests see exactly the types, defaults and
 * `<service>_<option>` overrides a real imapd.conf gives.
 *
 * Imports: the config reader.
 */
import type { ImapdConf } from '../config/api.js';
import { parseImapdConf } from '../config/imapd-conf.js';

/** Make a conf from `key: value` pairs (values as written in imapd.conf). */
export function testConf(
  values: Record<string, string> = {},
  service = 'imap',
  dir = '/tmp/cyrus-test',
): ImapdConf {
  const lines = [`configdirectory: ${dir}`, ...Object.entries(values).map(([k, v]) => `${k}: ${v}`)];
  return parseImapdConf(lines.join('\n') + '\n', { path: '(test)', service, warn: () => {} });
}
