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
  /**
   * Every channel binding the TLS connection offers, best first (see `channelBindings()` in
   * src/net/tls.ts). When absent, `channelBinding` alone is used.
   */
  channelBindings?: { type: string; data: Buffer }[];
  /** peer address for log lines ("[1.2.3.4]:5678" or a unix socket path) */
  remote?: string;
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
   * An empty buffer on the first call is read as "no initial response": mechanisms that need
   * client data first answer it with an empty challenge (see sasl/wire.ts `runExchange`).
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

/**
 * The one object protocols use to authenticate (src/auth/authenticator.ts makes it with
 * `createAuthenticator(conf, log)`). Identity comes from the store's contract.
 */
export interface Authenticator {
  /**
   * SASL mechanism names to advertise on a connection in this state, best first. The -PLUS
   * variants appear only when `hasChannelBinding` is true: then pass `channelBindings(tls)`
   * (src/net/tls.ts) in the SaslContext given to `start`.
   */
  mechanisms(opts: { secure: boolean; hasExternal?: boolean; hasChannelBinding?: boolean }): string[];
  /** May cleartext passwords (IMAP LOGIN, POP3 USER/PASS, PLAIN, LOGIN) be used now? */
  plaintextAllowed(secure: boolean): boolean;
  /** Begin an exchange; throws SaslFailure 'mech' for an unknown or disabled mechanism. */
  start(mech: string, ctx: SaslContext): SaslExchange;
  /** IMAP LOGIN / POP3 USER+PASS: the identity, or null (already logged, never says why). */
  checkPassword(
    user: string,
    password: string,
    ctx: { service: string; secure: boolean; remote?: string },
  ): Promise<import('../store/api.js').Identity | null>;
  /** After SASL success: apply authorisation; throws SaslFailure 'authz'. */
  identityFor(authcid: string, authzid: string): import('../store/api.js').Identity;
  /** ms to wait after a failed login (failedloginpause) */
  failedLoginDelay(): number;
  /**
   * After a successful cleartext login (LOGIN, USER/PASS, PLAIN, LOGIN mechanism) on a
   * connection without TLS: ms to pause (plaintextloginpause) and an ALERT text to send
   * (plaintextloginalert), as Cyrus does to make cleartext passwords felt. Zero/null on TLS.
   */
  plaintextLoginPolicy?(secure: boolean): { pauseMs: number; alert: string | null };
  /** POP3 APOP (RFC 1939 §7): digest = hex MD5(timestampBanner + password). */
  apop(
    user: string,
    timestampBanner: string,
    digest: string,
    ctx?: { service: string; remote?: string },
  ): Promise<import('../store/api.js').Identity | null>;
}
