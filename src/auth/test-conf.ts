/**
 * A tiny in-memory `ImapdConf` for the auth and net tests (and anyone else's), so those tests
 * do not depend on the config reader. Knows the Cyrus 3.6 defaults of the options auth and
 * net read; any other known-type getter of an unset option throws like the real reader does
 * for unknown names, so a test notices when code reads something unexpected.
 *
 * Imports: the config contract only.
 */
import { ConfigError, type ImapdConf } from '../config/api.js';

const DEFAULTS: Record<string, string> = {
  admins: '',
  allowplaintext: '0',
  tls_required: '0',
  allowanonymouslogin: '0',
  allowapop: '1',
  sasl_minimum_layer: '0',
  sasl_maximum_layer: '256',
  loginrealms: '',
  username_tolower: '1',
  failedloginpause: '3',
  virtdomains: 'off',
  defaultdomain: 'internal',
  tls_client_certs: 'optional',
  tls_versions: 'tls1_0 tls1_1 tls1_2 tls1_3',
  tls_ciphers: 'DEFAULT',
  tls_prefer_server_ciphers: '0',
  tls_eccurve: 'prime256v1',
  tls_session_timeout: '1440',
  maxword: '131072',
  maxquoted: '131072',
  maxmessagesize: '0',
  timeout: '32',
  poptimeout: '10',
  nntptimeout: '3',
};
const NULL_DEFAULTS = new Set([
  'proxyservers',
  'tls_server_cert',
  'tls_server_key',
  'tls_client_ca_file',
  'tls_client_ca_dir',
  'tls_server_dhparam',
  'tls_crl_file',
  'tls_sessions_db_path',
  'imapidletimeout',
  'servername',
]);

function parseSwitch(v: string): boolean {
  return /^(1|y|t|on)/i.test(v);
}

/** Make a conf from `key: value` pairs (values as written in imapd.conf). */
export function testConf(values: Record<string, string> = {}, service = 'imap', dir = '/tmp/cyrus-test'): ImapdConf {
  const all: Record<string, string> = { configdirectory: dir, ...values };
  const raw = (name: string): string | undefined => {
    const v = all[`${service}_${name}`] ?? all[name];
    if (v !== undefined) return v;
    if (name in DEFAULTS) return DEFAULTS[name];
    if (NULL_DEFAULTS.has(name)) return undefined;
    throw new ConfigError(`unknown option ${name} (test conf)`, undefined, undefined, name);
  };
  const conf: ImapdConf = {
    path: '(test)',
    service,
    configDirectory: dir,
    getString: (n) => {
      const v = raw(n);
      if (v === undefined) return n === 'tls_sessions_db_path' ? `${dir}/tls_sessions.db` : null;
      return v;
    },
    getInt: (n) => Number(raw(n) ?? '0'),
    getSwitch: (n) => parseSwitch(raw(n) ?? '0'),
    getEnum: (n) => {
      const v = raw(n) ?? '';
      if (/^(1|yes|t|true)$/i.test(v)) return 'on';
      if (/^(0|no|f|false)$/i.test(v)) return 'off';
      return v;
    },
    getBits: (n) => (raw(n) ?? '').split(/\s+/).filter(Boolean),
    getDuration: (n) => {
      const v = raw(n) ?? '0';
      if (/^-?\d+$/.test(v)) {
        const unit = ['timeout', 'poptimeout', 'nntptimeout', 'tls_session_timeout', 'imapidletimeout'].includes(n) ? 60 : 1;
        return Number(v) * unit;
      }
      let total = 0;
      for (const m of v.matchAll(/(\d+)([dhms])/g)) total += Number(m[1]) * { d: 86400, h: 3600, m: 60, s: 1 }[m[2] as 'd'];
      return v.startsWith('-') ? -total : total;
    },
    getBytes: (n) => Number(raw(n) ?? '0'),
    getOverflow: (k) => all[`${service}_${k}`] ?? all[k],
    getSasl: (o) => all[`${service}_sasl_${o}`] ?? all[`sasl_${o}`],
    partitions: () => new Map(),
    forService: (s) => testConf(values, s, dir),
  };
  return conf;
}
