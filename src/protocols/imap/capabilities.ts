/**
 * The CAPABILITY list for a session's current state (RFC 3501 §7.2.1), following Cyrus 3.6's
 * rules (spec/services.md §2): a short pre-login list with AUTH= and SASL-IR, the full list
 * after login. Only extensions this server implements completely are listed.
 *
 * Owns: `capabilities()`; `suppress_capabilities` is applied here.
 * Imports: config and auth contracts.
 */
import type { ImapdConf } from '../../config/api.js';

/** Extensions offered after login, each implemented by the commands named beside it. */
export const POST_AUTH = [
  'NAMESPACE', // namespace.ts
  'UIDPLUS', // APPENDUID/COPYUID, UID EXPUNGE
  'UNSELECT',
  'MOVE',
  'CHILDREN',
  'SPECIAL-USE',
  'CREATE-SPECIAL-USE',
  'LIST-EXTENDED',
  'LIST-STATUS',
  'LIST-MYRIGHTS', // list.ts RETURN (MYRIGHTS)
  'ESEARCH',
  'SEARCHRES', // RETURN (SAVE) and $ (search.ts, args.ts)
  'MULTIAPPEND',
  'CATENATE', // append.ts + catenate.ts (TEXT and IMAP URL parts)
  'BINARY',
  'CONDSTORE',
  'QRESYNC', // ENABLE, SELECT (QRESYNC ...), UID FETCH (CHANGEDSINCE n VANISHED), VANISHED responses
  'STATUS=SIZE',
  'OBJECTID',
  'SAVEDATE',
  'PREVIEW',
  'SORT',
  'SORT=DISPLAY', // sort.ts: DISPLAYFROM, DISPLAYTO
  'ESORT', // sort.ts RETURN (MIN MAX ALL COUNT) → ESEARCH (RFC 5267 §3)
  'CONTEXT=SEARCH', // RETURN (UPDATE), ADDTO/REMOVEFROM, CANCELUPDATE, NOUPDATE (context.ts, RFC 5267 §4)
  'CONTEXT=SORT',
  'PARTIAL', // commands/search-return.ts: SEARCH/SORT RETURN (PARTIAL range); fetch-partial.ts (RFC 9394)
  'REPLACE', // replace.ts (RFC 8508)
  'THREAD=ORDEREDSUBJECT', // commands/thread.ts, thread.ts
  'THREAD=REFERENCES',
  'WITHIN',
  'UNAUTHENTICATE', // commands/unauthenticate.ts
  'ACL', // acl.ts: SETACL DELETEACL GETACL LISTRIGHTS MYRIGHTS
  'RIGHTS=kxten',
  'QUOTA', // quota.ts: GETQUOTA GETQUOTAROOT SETQUOTA
  'QUOTA=RES-STORAGE',
  'QUOTA=RES-MESSAGE',
  'QUOTASET',
  'METADATA', // metadata.ts: GETMETADATA SETMETADATA
  'METADATA-SERVER',
] as const;

export interface CapabilityState {
  authenticated: boolean;
  /** COMPRESS=DEFLATE already active (then it is not offered again) */
  compressed?: boolean;
  secure: boolean;
  /** TLS can be started on this connection */
  tlsAvailable: boolean;
  mechanisms: string[];
  plaintextAllowed: boolean;
}

/** RFC 6855 UTF8=ACCEPT: offered as Cyrus 3.12 does, only when 8-bit headers are kept as they are */
export function utf8Accept(conf: ImapdConf): boolean {
  return !conf.getSwitch('reject8bit') && !conf.getSwitch('munge8bit');
}

/**
 * `full`: the answer to a CAPABILITY command. Before login Cyrus 3.6 answers it with the whole
 * list (post-login extensions included; spec/cyrus-observed.md §2) while the greeting carries
 * the short one; cyradm relies on that to find METADATA before it logs in.
 */
export function capabilities(conf: ImapdConf, st: CapabilityState, opts: { full?: boolean } = {}): string[] {
  const caps = [
    'IMAP4rev1',
    'IMAP4rev2',
    conf.getSwitch('literalminus') ? 'LITERAL-' : 'LITERAL+',
    'ID',
    'ENABLE',
  ];
  if (!st.authenticated) {
    if (st.tlsAvailable && !st.secure && conf.getSwitch('allowstarttls')) caps.push('STARTTLS');
    if ((conf.getSwitch('tls_required') && !st.secure) || !st.plaintextAllowed) caps.push('LOGINDISABLED');
  }
  const postAuth = st.authenticated || opts.full;
  if (postAuth) caps.push(...POST_AUTH);
  if (!st.authenticated) {
    for (const m of st.mechanisms) caps.push(`AUTH=${m}`);
    caps.push('SASL-IR');
  }
  if (postAuth) {
    if (utf8Accept(conf)) caps.push('UTF8=ACCEPT');
    if (!st.compressed) caps.push('COMPRESS=DEFLATE');
    if (conf.getDuration('imapidlepoll') > 0) caps.push('IDLE');
    const max = conf.getBytes('maxmessagesize');
    caps.push(`APPENDLIMIT=${max > 0 ? Math.min(max, 4294967295) : 4294967295}`);
  }
  const suppress = new Set(
    (conf.getString('suppress_capabilities') ?? '').toUpperCase().split(/\s+/).filter(Boolean),
  );
  return caps.filter((c) => !suppress.has(c.toUpperCase()));
}
