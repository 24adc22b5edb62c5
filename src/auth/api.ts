/**
 * Who a user is: the contract protocols use to authenticate.
 *
 * Owns: the types only. `passwords.ts` implements the password stores (our sasldb-like file
 * at `sasl_sasldb_path`, saslauthd over its socket), `sasl/` the server side of the SASL
 * mechanisms, `identity.ts` canonical user ids, admins and virtual domains.
 */

export type ScramHash = 'SHA-1' | 'SHA-256';

export interface ScramSecret {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** A place passwords are checked (sasl_pwcheck_method). */
export interface PasswordStore {
  /** true when the password is right; never throws for a wrong password or unknown user */
  verify(userid: string, password: string, service: string): Promise<boolean>;
  /** SCRAM secrets for the user, or null (unknown user, or a store that cannot do SCRAM) */
  scram(userid: string, hash: ScramHash): Promise<ScramSecret | null>;
  /** the clear password where the store keeps one (CRAM-MD5, APOP), else null */
  cleartext(userid: string): Promise<string | null>;
  /** does the user exist in this store (for delivery-time checks) */
  exists(userid: string): Promise<boolean>;
}

/** What the connection knows about itself when a mechanism runs. */
export interface SaslContext {
  service: string;
  /** TLS is active on the connection */
  secure: boolean;
  /** tls-unique / tls-exporter channel binding data, when TLS is active */
  channelBinding?: { type: string; data: Buffer };
  /** identity from a verified client certificate (EXTERNAL) */
  externalId?: string;
  /** server name for CRAM-MD5 challenges */
  serverName: string;
}

/** The result of a finished exchange. */
export interface SaslSuccess {
  /** authentication identity (who proved it) */
  authcid: string;
  /** authorisation identity requested (may be '' = same as authcid) */
  authzid: string;
  /** additional data to send with success (SCRAM server-final), if any */
  final?: Buffer;
}

/** One mechanism exchange: feed client responses, get challenges, until done or failed. */
export interface SaslExchange {
  /**
   * Take the client's next response (the initial response on the first call, possibly empty).
   * Returns a challenge to send, or the finished result. Rejects with SaslFailure.
   */
  step(response: Buffer): Promise<{ challenge: Buffer } | { done: SaslSuccess }>;
}

export class SaslFailure extends Error {
  constructor(
    message: string,
    /** 'auth' = bad credentials; 'syntax' = malformed client data; 'aborted'; 'mech' = unsupported */
    readonly reason: 'auth' | 'syntax' | 'aborted' | 'mech' | 'authz',
  ) {
    super(message);
    this.name = 'SaslFailure';
  }
}
