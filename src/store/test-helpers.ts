/**
 * Test helpers for the store: a temp configdirectory + partition with an imapd.conf loaded by
 * the real config reader. Not a test file itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImapdConf } from '../config/imapd-conf.js';
import type { ImapdConf } from '../config/api.js';
import type { Identity } from './api.js';

export interface TempSite {
  dir: string;
  confPath: string;
  conf: ImapdConf;
  cleanup(): void;
}

/** make a site with extra imapd.conf lines (key: value) */
export function tempSite(extra: Record<string, string | number | boolean> = {}, service = 'imap'): TempSite {
  const dir = mkdtempSync(join(tmpdir(), 'cyrus-store-'));
  const lines = [
    `configdirectory: ${join(dir, 'conf')}`,
    `partition-default: ${join(dir, 'spool')}`,
    'defaultpartition: default',
  ];
  for (const [k, v] of Object.entries(extra))
    lines.push(`${k}: ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : v}`);
  const confPath = join(dir, 'imapd.conf');
  writeFileSync(confPath, lines.join('\n') + '\n');
  const conf = loadImapdConf(confPath, { service, warn: () => undefined });
  return { dir, confPath, conf, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function user(userid: string, groups: string[] = []): Identity {
  return { userid, isAdmin: false, groups };
}

export const admin: Identity = { userid: 'cyrus', isAdmin: true, groups: [] };

/** a small RFC 5322 message */
export function message(subject: string, body = 'hello\r\n', extraHeaders = ''): Buffer {
  return Buffer.from(
    `From: Alice <alice@example.org>\r\nTo: Fred <fred@example.org>\r\nSubject: ${subject}\r\n` +
      `Date: Mon, 2 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n${extraHeaders}\r\n${body}`,
  );
}
