/**
 * Every parser and session limit the protocols enforce, read from imapd.conf in one place,
 * each with the reason for its default. 0 means what Cyrus documents for that option (for
 * maxargssize and maxmessagesize: no limit), never "unset, so use a default".
 *
 * Imports: the config contract.
 */
import type { ImapdConf } from '../config/api.js';

export interface Limits {
  /** IMAP atom (maxword): 128 KiB in Cyrus 3.6, so a long LOGIN or SEARCH atom still fits */
  maxWord: number;
  /** IMAP quoted string (maxquoted): 128 KiB, same reasoning */
  maxQuoted: number;
  /** literal outside APPEND (maxliteral, 3.10+): 128 KiB — Cyrus answers `NO [TOOBIG]` past it */
  maxLiteral: number;
  /** total argument bytes of one command (maxargssize, 3.10+): 0 = unlimited, Cyrus's default */
  maxArgsSize: number;
  /** LMTP message / APPEND size (maxmessagesize): 0 = unlimited; APPEND still caps at 4 GiB - 1 */
  maxMessageSize: number;
  /**
   * One POP3/LMTP/NNTP/ManageSieve command line, without CRLF: 8 KiB. RFC 5321 asks 512 and
   * RFC 2449 255 octets, but SASL initial responses (AUTH PLAIN <base64>, a SCRAM message with
   * channel binding) ride on that line, and Cyrus reads these lines into 8 KiB buffers.
   */
  maxCommandLine: number;
  /** one SASL client response line (AUTHENTICATE continuation): 64 KiB, room for large tokens */
  maxSaslLine: number;
  /** seconds of inactivity before autologout */
  timeouts: {
    /** `timeout`, at least 30 minutes (RFC 3501 §5.4; Cyrus raises smaller values) */
    imap: number;
    /** `imapidletimeout`, unset = `timeout` */
    imapIdle: number;
    /** `poptimeout`, at least 10 minutes (RFC 1939 §3) */
    pop3: number;
    /** `nntptimeout`, at least 3 minutes (RFC 3977 §3.1) */
    nntp: number;
    /** LMTP has no option: 5 minutes, the RFC 5321 §4.5.3.2.7 server timeout */
    lmtp: number;
    /** ManageSieve uses `timeout` in Cyrus's timsieved */
    sieve: number;
    /** the pre-login / TLS handshake budget: 60 s, so idle unauthenticated sockets go away */
    handshake: number;
  };
}

/** A byte-size option, tolerating readers that type it INT (3.6) or BYTESIZE (3.8+). */
function bytes(conf: ImapdConf, name: string, dflt: number): number {
  try {
    return conf.getBytes(name);
  } catch {
    return dflt;
  }
}

function duration(conf: ImapdConf, name: string): number {
  try {
    return conf.getDuration(name);
  } catch {
    return 0;
  }
}

export function readLimits(conf: ImapdConf): Limits {
  const imap = Math.max(duration(conf, 'timeout'), 30 * 60);
  const idle = duration(conf, 'imapidletimeout');
  return {
    maxWord: bytes(conf, 'maxword', 131072),
    maxQuoted: bytes(conf, 'maxquoted', 131072),
    maxLiteral: bytes(conf, 'maxliteral', 131072),
    maxArgsSize: bytes(conf, 'maxargssize', 0),
    maxMessageSize: bytes(conf, 'maxmessagesize', 0),
    maxCommandLine: 8192,
    maxSaslLine: 65536,
    timeouts: {
      imap,
      imapIdle: idle > 0 ? idle : imap,
      pop3: Math.max(duration(conf, 'poptimeout'), 10 * 60),
      nntp: Math.max(duration(conf, 'nntptimeout'), 3 * 60),
      lmtp: 5 * 60,
      sieve: imap,
      handshake: 60,
    },
  };
}
