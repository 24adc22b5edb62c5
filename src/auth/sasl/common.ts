/**
 * What every server-side SASL mechanism here needs: the backend it checks credentials with,
 * strict UTF-8 decoding, and the failure helpers.
 *
 * Mechanisms hand back *canonical* authcid/authzid (the backend's `canon`); authorisation
 * (may authcid act as authzid?) is the authenticator's job, not a mechanism's.
 *
 * First step convention (SaslExchange.step): an empty buffer on the first call means "no
 * initial response"; a mechanism that needs client data first answers it with an empty
 * challenge. EXTERNAL and ANONYMOUS accept an empty first response as complete.
 *
 * Imports: the auth contract.
 */
import { randomBytes } from 'node:crypto';
import { SaslFailure, type ScramHash, type ScramSecret } from '../api.js';

export interface MechBackend {
  /** canonical userid for what the client sent, or null when it can never be a user */
  canon(raw: string): string | null;
  verify(userid: string, password: string): Promise<boolean>;
  scram(userid: string, hash: ScramHash): Promise<ScramSecret | null>;
  cleartext(userid: string): Promise<string | null>;
  /** key for the deterministic fake SCRAM salt of unknown users */
  secret: Buffer;
  /** nonce source; tests inject a fixed one */
  nonce?: () => string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decode UTF-8 strictly: malformed bytes are a syntax failure, never U+FFFD. */
export function strictUtf8(b: Buffer, what: string): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new SaslFailure(`${what} is not UTF-8`, 'syntax');
  }
}

export function syntax(msg: string): SaslFailure {
  return new SaslFailure(msg, 'syntax');
}
export function authFail(msg = 'authentication failure'): SaslFailure {
  return new SaslFailure(msg, 'auth');
}

/** 24 random bytes, base64 without '=' (printable, no ','): a SCRAM nonce or CRAM-MD5 random part. */
export function randomNonce(): string {
  return randomBytes(24).toString('base64').replace(/=+$/, '');
}

/** Guard for exchanges that were already finished or failed. */
export class StepGuard {
  #over = false;
  check(): void {
    if (this.#over) throw new SaslFailure('exchange already finished', 'syntax');
  }
  end(): void {
    this.#over = true;
  }
}

/** Run one step, ending the exchange on any failure so it cannot be retried mid-way. */
export async function guarded<T>(g: StepGuard, fn: () => Promise<T>): Promise<T> {
  g.check();
  try {
    return await fn();
  } catch (e) {
    g.end();
    throw e;
  }
}
