/**
 * SASL on the wire, shared by IMAP AUTHENTICATE, POP3 AUTH, LMTP AUTH, ManageSieve
 * AUTHENTICATE and NNTP AUTHINFO SASL: base64 decoding of client responses and a driver
 * that runs an exchange to its end.
 *
 * Rules (RFC 4422 §5, RFC 4959, RFC 5034, RFC 4954, RFC 5804):
 *  - a client response is base64; "*" cancels the exchange;
 *  - an initial response of "=" means "empty initial response" (no IR at all is `null`);
 *  - base64 is checked strictly (alphabet, padding, length), so junk is a syntax error and
 *    not silently ignored bytes;
 *  - additional data with success (SCRAM's server-final) goes in the success reply where the
 *    protocol has room for it (ManageSieve `OK (SASL "...")`), else as one more challenge that
 *    the client answers with an empty response (RFC 4422 §5 item 7).
 *
 * Imports: the auth contract.
 */
import { SaslFailure, type SaslExchange, type SaslSuccess } from '../api.js';

const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decode one response line (without CRLF). Returns 'cancel' for "*"; throws SaslFailure 'syntax'. */
export function decodeResponse(line: Buffer | string): Buffer | 'cancel' {
  const s = (typeof line === 'string' ? line : line.toString('latin1')).trim();
  if (s === '*') return 'cancel';
  if (!B64.test(s)) throw new SaslFailure('response is not base64', 'syntax');
  return Buffer.from(s, 'base64');
}

/** Decode an initial response argument (SASL-IR, `AUTH PLAIN <ir>`): "=" is empty. */
export function decodeInitialResponse(arg: string): Buffer {
  if (arg === '=') return Buffer.alloc(0);
  const r = decodeResponse(arg);
  if (r === 'cancel') throw new SaslFailure('"*" is not an initial response', 'syntax');
  return r;
}

/** base64 of a challenge ('' for an empty one). */
export function encodeChallenge(data: Buffer): string {
  return data.toString('base64');
}

export interface RunOptions {
  /** the initial response, or null when the client sent none */
  initial: Buffer | null;
  /** send a challenge and return the client's decoded answer (or 'cancel') */
  challenge: (data: Buffer) => Promise<Buffer | 'cancel'>;
  /** the protocol can carry data with its success reply (ManageSieve); default false */
  successData?: boolean;
  /** most challenges before giving up (a misbehaving client); default 10 */
  maxSteps?: number;
}

/**
 * Drive an exchange to the end. Resolves with the success (its `final` still set only when
 * `successData` is true and the caller must put it in the success reply); rejects with
 * SaslFailure ('aborted' on "*").
 */
export async function runExchange(ex: SaslExchange, o: RunOptions): Promise<SaslSuccess> {
  const max = o.maxSteps ?? 10;
  let r = await ex.step(o.initial ?? Buffer.alloc(0));
  for (let n = 0; 'challenge' in r; n++) {
    if (n >= max) throw new SaslFailure('too many SASL steps', 'syntax');
    const resp = await o.challenge(r.challenge);
    if (resp === 'cancel') throw new SaslFailure('client cancelled', 'aborted');
    r = await ex.step(resp);
  }
  const done = r.done;
  if (done.final && done.final.length > 0 && !o.successData) {
    const resp = await o.challenge(done.final);
    if (resp === 'cancel') throw new SaslFailure('client cancelled', 'aborted');
    if (resp.length !== 0) throw new SaslFailure('expected an empty response after server-final', 'syntax');
    return { authcid: done.authcid, authzid: done.authzid };
  }
  return done;
}
