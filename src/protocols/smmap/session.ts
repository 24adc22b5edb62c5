/**
 * One socketmap session (smmapd; sendmail's and Postfix's `socketmap:` protocol): requests
 * `<len>:<mapname> <key>,` answered with `OK <key>`, `NOTFOUND <msg>`, `TEMP <msg>` or
 * `PERM <msg>` (services.md §7). The key is an LMTP recipient (`user`, `user+detail`,
 * `user@domain`, `+shared.folder`) and is judged exactly as lmtpd's RCPT would judge it
 * (../lmtp/recipient.ts), except that nothing is created: with autocreate_post an unknown
 * user is still NOTFOUND here. Over quota is TEMP, or PERM with lmtp_over_quota_perm_failure.
 * A malformed netstring gets PERM and the connection is closed.
 *
 * Owns: the request loop. The map name is not checked (Cyrus ignores it too).
 */
import type { Duplex } from 'node:stream';
import type { ImapdConf } from '../../config/api.js';
import type { Logger } from '../../log/logger.js';
import { MailError, type Store } from '../../store/api.js';
import { resolveRecipient } from '../lmtp/recipient.js';
import { NetstringParser, netstring } from './netstring.js';

/** socketmap requests are a map name and an address: 1000 bytes is far more than enough */
export const MAX_REQUEST = 1000;

export interface SmmapDeps {
  conf: ImapdConf;
  log: Logger;
  store: Store;
}

/** Answer one request text (`mapname key`). */
export function answer(deps: SmmapDeps, request: string): string {
  const sp = request.indexOf(' ');
  if (sp <= 0 || sp === request.length - 1) return 'PERM Invalid request';
  const key = request.slice(sp + 1);
  try {
    resolveRecipient(
      key,
      { store: deps.store, conf: deps.conf, poster: { userid: 'postman', isAdmin: false, groups: [] } },
      { ignoreQuota: false, create: false },
    );
    return `OK ${key}`;
  } catch (e) {
    if (!(e instanceof MailError)) {
      deps.log.error(`lookup of ${key} failed: ${String(e)}`);
      return 'TEMP Temporary failure';
    }
    switch (e.kind) {
      case 'notFound':
      case 'perm':
        return 'NOTFOUND Mailbox does not exist';
      case 'badName':
        return 'PERM Invalid mailbox name';
      case 'overQuota':
        return deps.conf.getSwitch('lmtp_over_quota_perm_failure') ? 'PERM Over quota' : 'TEMP Over quota';
      default:
        return `TEMP ${e.message}`;
    }
  }
}

export async function serveSmmap(deps: SmmapDeps, stream: Duplex): Promise<void> {
  const parser = new NetstringParser(MAX_REQUEST);
  await new Promise<void>((resolve) => {
    let closed = false;
    const finish = (): void => {
      if (!closed) {
        closed = true;
        resolve();
      }
    };
    stream.on('data', (chunk: Buffer) => {
      if (closed) return;
      parser.push(chunk);
      for (;;) {
        const r = parser.next();
        if (r.kind === 'more') break;
        if (r.kind === 'error') {
          deps.log.notice(`malformed socketmap request: ${r.reason}`);
          stream.end(netstring(`PERM Malformed request: ${r.reason}`));
          closed = true;
          resolve();
          return;
        }
        const reply = answer(deps, r.value.toString('utf8'));
        stream.write(netstring(reply));
      }
    });
    stream.on('end', () => {
      stream.end();
      finish();
    });
    stream.on('close', finish);
    stream.on('error', finish);
  });
}
