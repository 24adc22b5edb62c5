/**
 * Test helpers for the Sieve tests: run a script text against a message text without I/O,
 * and a temp site (imapd.conf + sievedir + a sendmail stand-in that records what it is given).
 * Not a test file itself.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadImapdConf } from '../config/imapd-conf.js';
import type { ImapdConf } from '../config/api.js';
import { compileScript, type Compiled } from './checker.js';
import { IMPLEMENTED } from './extensions.js';
import { runScript, type SieveEnv, type SieveResult } from './interpreter.js';
import { parseHeaders } from './message.js';

export const ALL = new Set(IMPLEMENTED);

export interface RunOpts {
  from?: string;
  to?: string;
  env?: Partial<SieveEnv>;
  enabled?: Set<string>;
}

/** Split "headers\r\n\r\nbody" and run the script on it. */
export function runOn(script: string, message: string, o: RunOpts = {}): SieveResult {
  const compiled = compileScript(script, o.enabled ?? ALL);
  return runCompiled(compiled, message, o);
}

export function runCompiled(compiled: Compiled, message: string, o: RunOpts = {}): SieveResult {
  const norm = message.replace(/\r?\n/g, '\r\n');
  const cut = norm.indexOf('\r\n\r\n');
  const head = cut < 0 ? norm : norm.slice(0, cut + 2);
  const body = cut < 0 ? '' : norm.slice(cut + 4);
  const env: SieveEnv = {
    enabled: o.enabled ?? ALL,
    envelopeFrom: o.from ?? 'alice@example.org',
    envelopeTo: o.to ?? 'fred@example.com',
    headers: parseHeaders(head),
    size: Buffer.byteLength(norm),
    bodyText: body.toLowerCase(),
    now: new Date(Date.UTC(2026, 10, 28, 12, 0, 0)),
    environment: { location: 'MDA', phase: 'during', name: 'Cyrus-TS' },
    mailboxExists: () => false,
    ...o.env,
  };
  return runScript(compiled, env);
}

export const MSG = [
  'Return-Path: <alice@example.org>',
  'From: Alice Example <alice@example.org>',
  'To: Fred <fred+lists@example.com>, bob@example.net',
  'Cc: "Carol, C." <carol@example.com>',
  'Subject: [cyrus-devel] Weekly report =?utf-8?q?caf=C3=A9?=',
  'Date: Fri, 27 Nov 2026 23:30:00 -0500',
  'Message-ID: <report-1@example.org>',
  'Received: from a by b; Fri, 27 Nov 2026 23:30:01 -0500',
  'Received: from c by d; Fri, 27 Nov 2026 23:30:02 -0500',
  'X-Spam-Score: 7.3',
  'X-Priority: 12',
  '',
  'Hello Fred,',
  'the numbers are in. Budget approved.',
  '',
].join('\r\n');

export interface Site {
  dir: string;
  conf: ImapdConf;
  sievedir: string;
  /** directory where the sendmail stand-in writes one file per invocation */
  outbox: string;
  sent(): { args: string[]; input: string }[];
  cleanup(): void;
}

/** A temp site whose `sendmail` is a shell script recording args and stdin. */
export function tempSite(extra: Record<string, string> = {}): Site {
  const dir = mkdtempSync(join(tmpdir(), 'cyrus-sieve-'));
  const outbox = join(dir, 'outbox');
  const sievedir = join(dir, 'sieve');
  const sendmail = join(dir, 'sendmail.sh');
  writeFileSync(
    sendmail,
    `#!/bin/sh\nmkdir -p '${outbox}'\nf='${outbox}'/$(date +%s%N)-$$\nprintf '%s\\n' "$@" > "$f.args"\ncat > "$f.msg"\n`,
  );
  chmodSync(sendmail, 0o755);
  const lines = [
    `configdirectory: ${join(dir, 'conf')}`,
    `partition-default: ${join(dir, 'spool')}`,
    `sievedir: ${sievedir}`,
    `sendmail: ${sendmail}`,
    `duplicate_db_path: ${join(dir, 'deliver.db')}`,
    'servername: mail.example.com',
  ];
  for (const [k, v] of Object.entries(extra)) {
    const i = lines.findIndex((l) => l.startsWith(`${k}: `));
    if (i >= 0) lines.splice(i, 1);
    lines.push(`${k}: ${v}`);
  }
  const confPath = join(dir, 'imapd.conf');
  writeFileSync(confPath, lines.join('\n') + '\n');
  const conf = loadImapdConf(confPath, { service: 'lmtp', warn: () => undefined });
  return {
    dir,
    conf,
    sievedir,
    outbox,
    sent() {
      let files: string[];
      try {
        files = readdirSync(outbox)
          .filter((f) => f.endsWith('.args'))
          .sort();
      } catch {
        return [];
      }
      return files.map((f) => ({
        args: readFileSync(join(outbox, f), 'utf8').trimEnd().split('\n'),
        input: readFileSync(join(outbox, f.replace(/\.args$/, '.msg')), 'utf8'),
      }));
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
