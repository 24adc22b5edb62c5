/**
 * Password secrets: SASLprep, the salted password hash kept in our sasldb, and the SCRAM
 * keys (RFC 5802 §3) derived from a password.
 *
 * Hash choice: scrypt (node:crypto, memory-hard) with N=2^14, r=8, p=1 and a 16-byte salt,
 * written as `scrypt$N$r$p$<salt b64>$<hash b64>` so parameters can change without breaking
 * old entries. SCRAM secrets use PBKDF2 (as RFC 5802 requires) with 4096 iterations (the
 * RFC 7677 minimum recommendation) and a 16-byte salt; only StoredKey and ServerKey are kept,
 * never SaltedPassword, so a stolen sasldb cannot be replayed as SCRAM credentials.
 *
 * Imports: node built-ins and the auth contract.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScramHash, ScramSecret } from './api.js';

export const SCRAM_ITERATIONS = 4096;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/**
 * SASLprep (RFC 4013) for passwords and usernames: map non-ASCII spaces to SPACE, drop the
 * "commonly mapped to nothing" characters, NFKC-normalise, refuse control and private-use
 * characters. (Bidi checks of RFC 3454 §6 are not done; they only refuse odd strings.)
 */
export function saslprep(s: string): string {
  let mapped = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (NON_ASCII_SPACE.has(cp) || (cp >= 0x2000 && cp <= 0x200b)) mapped += ' ';
    else if (MAPPED_TO_NOTHING.has(cp) || (cp >= 0x180b && cp <= 0x180d) || (cp >= 0xfe00 && cp <= 0xfe0f))
      continue;
    else mapped += ch;
  }
  mapped = mapped.normalize('NFKC');
  for (const ch of mapped) {
    const cp = ch.codePointAt(0)!;
    const prohibited =
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      (cp >= 0xe000 && cp <= 0xf8ff) ||
      (cp >= 0xfff9 && cp <= 0xfffd);
    if (prohibited) throw new Error('prohibited character');
  }
  return mapped;
}

/** RFC 3454 C.1.2 (outside the 0x2000-0x200B run handled inline) */
const NON_ASCII_SPACE = new Set([0x00a0, 0x1680, 0x202f, 0x205f, 0x3000]);
/** RFC 3454 B.1 (outside the two runs handled inline) */
const MAPPED_TO_NOTHING = new Set([0x00ad, 0x034f, 0x1806, 0x200c, 0x200d, 0x2060, 0xfeff]);

/** A new salted hash string for the password. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function scryptAsync(
  pw: string,
  salt: Buffer,
  N: number,
  r: number,
  p: number,
  keylen: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(pw, salt, keylen, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Does the password match the stored hash string? false for anything malformed. */
export async function checkHash(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (!(N > 1 && r > 0 && p > 0 && N <= 1 << 20 && want.length >= 16)) return false;
  const got = await scryptAsync(password, salt, N, r, p, want.length);
  return timingSafeEqual(got, want);
}

/** Spend about the time of a real check, for unknown users (no user enumeration by timing). */
export async function dummyCheck(password: string): Promise<void> {
  await scryptAsync(password, Buffer.alloc(16), SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
}

export function nodeHash(h: ScramHash): 'sha1' | 'sha256' {
  return h === 'SHA-1' ? 'sha1' : 'sha256';
}
export function H(h: ScramHash, data: Buffer): Buffer {
  return createHash(nodeHash(h)).update(data).digest();
}
export function HMAC(h: ScramHash, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(nodeHash(h), key).update(data).digest();
}

/** RFC 5802 §3: SaltedPassword, then ClientKey/StoredKey and ServerKey. */
export function scramSecret(h: ScramHash, password: string, salt: Buffer, iterations: number): ScramSecret {
  const len = h === 'SHA-1' ? 20 : 32;
  const salted = pbkdf2Sync(saslprep(password), salt, iterations, len, nodeHash(h));
  const clientKey = HMAC(h, salted, 'Client Key');
  return { salt, iterations, storedKey: H(h, clientKey), serverKey: HMAC(h, salted, 'Server Key') };
}

export function encodeScram(s: ScramSecret): string {
  return [s.iterations, s.salt, s.storedKey, s.serverKey]
    .map((x) => (typeof x === 'number' ? String(x) : x.toString('base64')))
    .join('$');
}
export function decodeScram(v: string | null): ScramSecret | null {
  if (!v) return null;
  const p = v.split('$');
  if (p.length !== 4) return null;
  const iterations = Number(p[0]);
  if (!Number.isInteger(iterations) || iterations < 1) return null;
  return {
    iterations,
    salt: Buffer.from(p[1], 'base64'),
    storedKey: Buffer.from(p[2], 'base64'),
    serverKey: Buffer.from(p[3], 'base64'),
  };
}
