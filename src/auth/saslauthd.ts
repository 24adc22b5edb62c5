/**
 * The `saslauthd` password store: asks a running saslauthd over its unix socket
 * (`sasl_saslauthd_path`, default /run/saslauthd/mux).
 *
 * Wire format (saslauthd/ipc_unix.c): the client sends four counted strings — login,
 * password, service, realm — each a 2-byte big-endian length then the bytes; the daemon
 * answers one counted string starting "OK" or "NO" and closes. saslauthd can only say yes or
 * no to a password: no SCRAM secrets, no cleartext, and no "does this user exist".
 *
 * Imports: node built-ins and the auth contract.
 */
import { connect } from 'node:net';
import type { PasswordStore, ScramSecret } from './api.js';

/** A reply longer than this is not saslauthd talking (its own limit is 1 KiB). */
const MAX_REPLY = 1024;
const MAX_FIELD = 0xffff;

function counted(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  if (b.length > MAX_FIELD) throw new Error('field too long for saslauthd');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}

/** One request: resolves to the daemon's reply text ("OK", "NO authentication failed", ...). */
export function saslauthdRequest(
  path: string,
  fields: { login: string; password: string; service: string; realm: string },
  timeoutMs = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (err: Error | null, v?: string): void => {
      if (done) return;
      done = true;
      sock.destroy();
      if (err) reject(err);
      else resolve(v ?? '');
    };
    sock.setTimeout(timeoutMs, () => finish(new Error('saslauthd timed out')));
    sock.on('connect', () => {
      try {
        sock.write(
          Buffer.concat([
            counted(fields.login),
            counted(fields.password),
            counted(fields.service),
            counted(fields.realm),
          ]),
        );
      } catch (e) {
        finish(e as Error);
      }
    });
    const tryParse = (): void => {
      if (total < 2) return;
      const all = Buffer.concat(chunks);
      const n = all.readUInt16BE(0);
      if (n > MAX_REPLY) return finish(new Error('saslauthd reply too long'));
      if (all.length >= 2 + n) finish(null, all.subarray(2, 2 + n).toString('utf8'));
    };
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      total += d.length;
      if (total > MAX_REPLY + 2) return finish(new Error('saslauthd reply too long'));
      tryParse();
    });
    sock.on('end', () => finish(new Error('saslauthd closed without a reply')));
    sock.on('error', (e) => finish(e));
  });
}

export class SaslauthdStore implements PasswordStore {
  constructor(
    readonly path: string,
    private readonly onError: (msg: string) => void = () => {},
  ) {}

  async verify(userid: string, password: string, service: string): Promise<boolean> {
    // a virtual-domain userid travels as login + realm, as Cyrus SASL sends it
    const at = userid.lastIndexOf('@');
    const login = at < 0 ? userid : userid.slice(0, at);
    const realm = at < 0 ? '' : userid.slice(at + 1);
    try {
      const reply = await saslauthdRequest(this.path, { login, password, service, realm });
      return reply.startsWith('OK');
    } catch (e) {
      this.onError(`saslauthd at ${this.path}: ${(e as Error).message}`);
      return false;
    }
  }
  async scram(): Promise<ScramSecret | null> {
    return null;
  }
  async cleartext(): Promise<string | null> {
    return null;
  }
  /** saslauthd cannot tell; the mailbox list decides whether a user exists. */
  async exists(): Promise<boolean> {
    return true;
  }
}
