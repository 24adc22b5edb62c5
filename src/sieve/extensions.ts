/**
 * Which Sieve capabilities exist here and which of them imapd.conf's `sieve_extensions` enables.
 *
 * Owns: the config-bit → capability-word map, the SIEVE capability string timsieved announces,
 * and `enabledExtensions(conf)`. A capability is usable in `require` only when enabled.
 * Config bits we do not implement (extlists, redirect-deliverby,
 * vnd.cyrus.*, snooze) are never announced, so a script requiring them is refused at upload.
 *
 * Imports: config api only.
 */
import type { ImapdConf } from '../config/api.js';

/** Always on: part of the base language or not switchable in Cyrus 3.6. */
const ALWAYS = [
  'encoded-character',
  'comparator-i;ascii-numeric',
  'comparator-i;octet',
  'comparator-i;ascii-casemap',
  'spamtest',
  'spamtestplus',
  'virustest',
];

/** sieve_extensions member → capability words it enables, in announce order */
const BY_BIT: [string, string[]][] = [
  ['fileinto', ['fileinto']],
  ['reject', ['reject', 'ereject']],
  ['vacation', ['vacation']],
  ['vacation-seconds', ['vacation-seconds']],
  ['notify', ['notify', 'enotify']],
  ['include', ['include']],
  ['editheader', ['editheader']],
  ['envelope', ['envelope']],
  ['environment', ['environment']],
  ['body', ['body']],
  ['imap4flags', ['imap4flags']],
  ['date', ['date']],
  ['ihave', ['ihave']],
  ['mailbox', ['mailbox']],
  ['mboxmetadata', ['mboxmetadata']],
  ['servermetadata', ['servermetadata']],
  ['duplicate', ['duplicate']],
  ['relational', ['relational']],
  ['regex', ['regex']],
  ['subaddress', ['subaddress']],
  ['copy', ['copy']],
  ['index', ['index']],
  ['variables', ['variables']],
  ['special-use', ['special-use']],
  ['fcc', ['fcc']],
  ['mailboxid', ['mailboxid']],
  ['redirect-dsn', ['redirect-dsn']],
  ['vnd.cyrus.log', ['vnd.cyrus.log']],
];

/** Every capability word the interpreter implements, whatever the configuration. */
export const IMPLEMENTED: ReadonlySet<string> = new Set([...ALWAYS, ...BY_BIT.flatMap(([, w]) => w)]);

export const DEFAULT_BITS = BY_BIT.map(([b]) => b);

/** Capability words enabled by configuration (null conf: all we implement). */
export function enabledExtensions(conf: ImapdConf | null): Set<string> {
  let bits: string[] = DEFAULT_BITS;
  if (conf) {
    try {
      bits = conf.getBits('sieve_extensions').map((b) => b.toLowerCase());
    } catch {
      bits = DEFAULT_BITS;
    }
  }
  const set = new Set<string>(ALWAYS);
  for (const [bit, words] of BY_BIT) {
    if (bits.includes(bit) || (bit === 'imap4flags' && bits.includes('imapflags')))
      for (const w of words) set.add(w);
  }
  // vacation-seconds extends vacation; without vacation it means nothing
  if (!set.has('vacation')) set.delete('vacation-seconds');
  return set;
}

/** The "SIEVE" capability value: enabled words, Cyrus's order, comparators i;octet/casemap implied. */
export function sieveCapability(enabled: Set<string>): string {
  const out: string[] = ['encoded-character', 'comparator-i;ascii-numeric'];
  for (const [, words] of BY_BIT) for (const w of words) if (enabled.has(w)) out.push(w);
  for (const w of ['spamtest', 'spamtestplus', 'virustest']) if (enabled.has(w)) out.push(w);
  return out.join(' ');
}

/** How many redirects one script run may do (advertised as MAXREDIRECTS). */
export const MAX_REDIRECTS = 5;
