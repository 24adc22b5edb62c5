/**
 * Outgoing mail for Sieve (redirect, vacation, notify, reject MDN): runs imapd.conf's
 * `sendmail` program as Cyrus does, `sendmail -f <from> -- <rcpt>`, message on stdin
 * (redirect-dsn adds sendmail's `-N <notify>` and `-R <ret>` in front).
 *
 * Owns: `sendMail`. The body is streamed (a Buffer head plus, for redirect, the message file);
 * the child gets 30 s before it is killed. Resolves to true when sendmail exited 0.
 * Imports: node built-ins, config api.
 */
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import type { ImapdConf } from '../config/api.js';

export const SENDMAIL_TIMEOUT_MS = 30_000;

export function sendMail(
  conf: ImapdConf,
  from: string,
  rcpt: string,
  head: Buffer,
  bodyFile?: string,
  /** start reading bodyFile at this offset (to replace its header block with `head`) */
  bodyStart = 0,
  /** extra sendmail options before `-f` (RFC 6009 redirect-dsn: `-N notify`, `-R ret`) */
  options: string[] = [],
): Promise<{ ok: boolean; error?: string }> {
  const prog = conf.getString('sendmail') ?? '/usr/lib/sendmail';
  const env = { ...process.env };
  const authVar = conf.getString('sendmail_auth_id');
  if (authVar) env[authVar] = 'sieve';
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: { ok: boolean; error?: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const child = spawn(prog, [...options, '-f', from, '--', rcpt], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 1000) stderr += d.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done({ ok: false, error: 'sendmail timed out' });
    }, SENDMAIL_TIMEOUT_MS);
    child.on('error', (e) => done({ ok: false, error: `cannot run ${prog}: ${e.message}` }));
    child.on('close', (code) =>
      done(code === 0 ? { ok: true } : { ok: false, error: `${prog} exited ${code}: ${stderr.trim()}` }),
    );
    child.stdin.on('error', () => undefined);
    child.stdin.write(head);
    if (bodyFile) {
      const rs = createReadStream(bodyFile, { start: bodyStart });
      rs.on('error', (e) => {
        child.kill('SIGKILL');
        done({ ok: false, error: e.message });
      });
      rs.pipe(child.stdin);
    } else child.stdin.end();
  });
}
