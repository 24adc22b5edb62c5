/**
 * An in-memory PasswordStore for tests: users with a password, SCRAM secrets derived from it
 * (given salts, so RFC test vectors can be reproduced) and optional cleartext.
 *
 * Imports: the auth contract and secrets.
 */
import { randomBytes } from 'node:crypto';
import type { PasswordStore, ScramHash, ScramSecret } from './api.js';
import { scramSecret } from './secrets.js';

export interface TestUser {
  password: string;
  salt1?: Buffer;
  salt256?: Buffer;
  cleartext?: boolean;
}

export function memoryStore(users: Record<string, TestUser>): PasswordStore & { calls: string[] } {
  const calls: string[] = [];
  const secrets = new Map<string, ScramSecret>();
  for (const [u, d] of Object.entries(users)) {
    secrets.set(`${u}:SHA-1`, scramSecret('SHA-1', d.password, d.salt1 ?? randomBytes(16), 4096));
    secrets.set(`${u}:SHA-256`, scramSecret('SHA-256', d.password, d.salt256 ?? randomBytes(16), 4096));
  }
  return {
    calls,
    async verify(u, p, service) {
      calls.push(`verify ${u} ${service}`);
      return users[u]?.password === p;
    },
    async scram(u: string, h: ScramHash) {
      calls.push(`scram ${u} ${h}`);
      return secrets.get(`${u}:${h}`) ?? null;
    },
    async cleartext(u) {
      const d = users[u];
      return d?.cleartext ? d.password : null;
    },
    async exists(u) {
      return u in users;
    },
  };
}
