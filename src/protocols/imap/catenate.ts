/**
 * CATENATE (RFC 4469): the parts of an APPEND assembled from client text and IMAP URLs
 * (RFC 5092) naming messages or sections this user may read. The result is streamed: text
 * parts from their literals, URL parts from the message files by offset.
 *
 * Owns: URL parsing/resolution (`/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=s][/;PARTIAL=o.l]`,
 * also with an `imap://user@host` prefix) and `catenated()`, the assembled stream.
 * Imports: store contract, mail/utf7, fetch-items.ts, parser.ts.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { decodeMailboxName } from '../../mail/utf7.js';
import type { MailboxView } from '../../store/api.js';
import { indexOfUid } from './args.js';
import { ImapReplyError } from './errors.js';
import { filterHeader, parseFetchItems, sectionRange } from './fetch-items.js';
import type { StringToken } from './parser.js';
import type { ImapSession } from './session.js';

export type CatPart = { kind: 'text'; tok: StringToken } | { kind: 'url'; url: string };

interface UrlRef {
  mailbox: string;
  uidValidity: number | null;
  uid: number;
  section: string;
  partial: { start: number; count: number } | null;
}

const badUrl = (url: string): ImapReplyError =>
  new ImapReplyError('NO', 'Bad URL', `BADURL "${url.replace(/["\\]/g, '\\$&')}"`);

/** `/mailbox;UIDVALIDITY=n/;UID=n/;SECTION=s/;PARTIAL=o.l` (an `imap://authority` prefix allowed) */
export function parseImapUrl(url: string): UrlRef | null {
  const path = url.replace(/^imap:\/\/[^/]*/i, '');
  const m =
    /^\/([^;/]+(?:\/[^;/]+)*?)(?:;UIDVALIDITY=(\d+))?\/;UID=(\d+)(?:\/;SECTION=([^/]*))?(?:\/;PARTIAL=(\d+)(?:\.(\d+))?)?$/i.exec(
      path,
    );
  if (!m) return null;
  let mailbox: string;
  try {
    mailbox = decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
  if (/&[A-Za-z0-9+,]*-/.test(mailbox)) {
    try {
      mailbox = decodeMailboxName(mailbox);
    } catch {
      // not modified UTF-7 after all
    }
  }
  return {
    mailbox,
    uidValidity: m[2] ? Number(m[2]) : null,
    uid: Number(m[3]),
    section: m[4] ? decodeURIComponent(m[4]) : '',
    partial: m[5] ? { start: Number(m[5]), count: m[6] ? Number(m[6]) : Infinity } : null,
  };
}

async function* chunksOf(s: Readable): AsyncGenerator<Buffer> {
  for await (const c of s as AsyncIterable<Buffer>) yield c;
}

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Check every URL now (so a bad one fails the APPEND before anything is stored) and return a
 * stream of the whole message plus a `done()` that closes mailboxes opened for it.
 */
export function catenated(session: ImapSession, parts: CatPart[]): { stream: Readable; done(): void } {
  const opened: MailboxView[] = [];
  const resolved: (() => AsyncGenerator<Buffer>)[] = [];
  const who = session.who();
  try {
    for (const p of parts) {
      if (p.kind === 'text') {
        const tok = p.tok;
        resolved.push(async function* () {
          if (tok.file) yield* chunksOf(createReadStream(tok.file));
          else yield* tok.chunks;
        });
        continue;
      }
      const ref = parseImapUrl(p.url);
      if (!ref) throw badUrl(p.url);
      let internal: string;
      try {
        internal = session.ns.toInternal(ref.mailbox, who.userid);
      } catch {
        throw badUrl(p.url);
      }
      const sel =
        session.state.kind === 'selected' && session.state.mailbox === internal ? session.state.view : null;
      let view = sel;
      if (!view) {
        try {
          view = session.store.open(who, internal, { readOnly: true });
        } catch {
          throw badUrl(p.url);
        }
        opened.push(view);
      }
      if (ref.uidValidity !== null && ref.uidValidity !== view.info.uidValidity) throw badUrl(p.url);
      if (indexOfUid(view.uids(), ref.uid) < 0) throw badUrl(p.url);
      const rec = view.records([ref.uid])[0];
      if (!rec) throw badUrl(p.url);
      let item;
      try {
        [item] = parseFetchItems({ t: 'atom', v: `BODY.PEEK[${ref.section}]` }, 'Append');
      } catch {
        throw badUrl(p.url);
      }
      if (!item || item.k !== 'section') throw badUrl(p.url);
      const cache = view.cache(ref.uid);
      const r = sectionRange(
        cache.body,
        cache.headerSize,
        rec.size,
        item.path,
        item.text,
        item.fields,
        false,
      );
      if (r.missing) throw badUrl(p.url);
      const v = view;
      const partial = ref.partial;
      const uid = ref.uid;
      resolved.push(async function* () {
        if (r.filter) {
          let data = filterHeader(await readAll(v.open(uid, r.start, r.end)), r.filter.fields, r.filter.not);
          if (partial)
            data = data.subarray(partial.start, partial.start + Math.min(partial.count, data.length));
          yield data;
          return;
        }
        let start = r.start;
        let end = r.end;
        if (partial) {
          start = Math.min(r.end, r.start + partial.start);
          end = Math.min(r.end, start + partial.count);
        }
        if (end > start) yield* chunksOf(v.open(uid, start, end));
      });
    }
  } catch (e) {
    for (const v of opened) v.close();
    throw e;
  }
  async function* all(): AsyncGenerator<Buffer> {
    for (const f of resolved) yield* f();
  }
  return {
    stream: Readable.from(all()),
    done() {
      for (const v of opened) v.close();
    },
  };
}
