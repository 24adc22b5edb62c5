/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5 / RFC 9051 §6.4.5), with CHANGEDSINCE (RFC 7162 §3.1.4):
 *   tag [UID] FETCH sequence-set (items | macro) [(CHANGEDSINCE modseq)]
 *
 * Streaming: one `* n FETCH (...)` per message, written as soon as it is ready; body sections
 * are literals whose bytes are piped from the message file by offset (MailboxView.open), with
 * the socket's backpressure respected, so neither a message nor a mailbox is ever held whole.
 * BINARY[] decodes the transfer encoding on the fly (counted in a first pass for `~{N}`).
 * Non-peek body sections set \Seen on a read-write mailbox, and FLAGS are then included.
 */
import { Readable } from 'node:stream';
import { decoderFor, isKnownEncoding } from '../../../mail/decode.js';
import { formatImapDateTime } from '../../../mail/date.js';
import type { MailboxView, MessageCache, MessageRecord } from '../../../store/api.js';
import { formatSeqSet, ImapSyntaxError, indexOfUid, resolveSeqSet, seqOutOfRange } from '../args.js';
import { bodyText, envelopeText } from '../../../mail/imap-text.js';
import type { Command } from '../command.js';
import { ImapReplyError } from '../errors.js';
import {
  filterHeader,
  parseFetchItems,
  sectionRange,
  type FetchItem,
  type SectionItem,
} from '../fetch-items.js';
import { nstr } from '../response.js';
import type { ImapSession } from '../session.js';

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

/** bytes of [start,end) after transfer decoding, counted without keeping them */
async function decodedSize(
  view: MailboxView,
  uid: number,
  start: number,
  end: number,
  enc: string,
): Promise<number> {
  const dec = decoderFor(enc);
  const src = view.open(uid, start, end);
  if (!dec) return end - start;
  let n = 0;
  src.pipe(dec);
  for await (const c of dec as AsyncIterable<Buffer>) n += c.length;
  return n;
}

const fetch: Command = {
  names: ['FETCH'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  async run({ session, uid }, args) {
    const set = args.seqSet();
    const items = parseFetchItems(args.take(), uid ? 'UID Fetch' : 'Fetch');
    let changedSince: number | null = null;
    let vanished = false;
    if (args.remaining > 0) {
      const t = args.take();
      if (t.t !== 'list')
        throw new ImapSyntaxError(
          `Missing required open parenthesis in ${uid ? 'UID Fetch' : 'Fetch'} modifiers`,
        );
      const m = t.v;
      for (let i = 0; i < m.length; i++) {
        const w = m[i]!.t === 'atom' ? (m[i] as { v: string }).v.toUpperCase() : '';
        const v = m[i + 1];
        if (w === 'CHANGEDSINCE' && v?.t === 'atom' && /^\d+$/.test(v.v)) {
          changedSince = Number(v.v);
          i++;
        } else if (w === 'VANISHED' && uid && session.enabled.has('QRESYNC')) {
          vanished = true;
        } else throw new ImapSyntaxError(`Invalid ${uid ? 'UID Fetch' : 'Fetch'} modifier`);
      }
      session.enabled.add('CONDSTORE');
    }
    args.end();
    if (vanished && changedSince === null)
      throw new ImapSyntaxError('VANISHED needs CHANGEDSINCE in UID Fetch');
    const st = session.selected();
    const view = st.view;
    const all = view.uids();
    if (vanished) {
      // RFC 7162 §3.2.6: uids in the set expunged since CHANGEDSINCE
      const max = view.uidNext() - 1;
      const named: number[] = [];
      for (const r of set.ranges) {
        const a = r.from === Infinity ? max : r.from;
        const b = r.to === Infinity ? max : Math.min(r.to, max);
        for (let u = a; u <= b && named.length < 1_000_000; u++) named.push(u);
      }
      const gone = view.vanishedSince(changedSince!, named);
      if (gone.length)
        session.untagged(`VANISHED (EARLIER) ${formatSeqSet([...gone].sort((x, y) => x - y))}`);
    }
    let uids = resolveSeqSet(set, all, uid, session.savedSearch);
    if (
      !uid &&
      uids.length === 0 &&
      seqOutOfRange(set, all.length) &&
      !set.ranges.some((r) => r.to === Infinity)
    ) {
      return { status: 'NO', text: 'No matching messages' };
    }
    if (items.some((i) => i.k === 'simple' && i.name === 'MODSEQ')) session.enabled.add('CONDSTORE');
    const condstore = session.enabled.has('CONDSTORE');
    // RFC 7162: with CONDSTORE on, FETCH responses carry MODSEQ when CHANGEDSINCE asks for it
    const list: FetchItem[] = [...items];
    if ((uid || session.enabled.has('QRESYNC')) && !list.some((i) => i.k === 'simple' && i.name === 'UID'))
      list.unshift({ k: 'simple', name: 'UID' });
    if (changedSince !== null && !list.some((i) => i.k === 'simple' && i.name === 'MODSEQ'))
      list.push({ k: 'simple', name: 'MODSEQ' });
    void condstore;

    const setsSeen = !st.readOnly && list.some((i) => i.k === 'section' && !i.peek);
    const needCache = list.some(
      (i) =>
        (i.k === 'simple' && ['ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'PREVIEW'].includes(i.name)) ||
        i.k === 'section' ||
        i.k === 'binarysize',
    );

    // only simple items (FLAGS, ENVELOPE, ...): each response is text from the index and cache
    const textOnly = list.every((i) => i.k === 'simple');
    // ENVELOPE/BODYSTRUCTURE/PREVIEW only: the cache's IMAP texts are enough, no JSON decoded
    const cacheTextOnly =
      textOnly && !session.utf8 && !list.some((i) => i.k === 'simple' && i.name === 'BODY');
    // in batches, so a 100,000-message FETCH never has all records in memory at once
    const BATCH = 500;
    for (let b = 0; b < uids.length; b += BATCH) {
      let recs = view.records(uids.slice(b, b + BATCH));
      if (changedSince !== null) recs = recs.filter((r) => r.modseq > changedSince!);
      if (setsSeen) {
        const unseen = recs.filter((r) => !r.flags.includes('\\Seen')).map((r) => r.uid);
        if (unseen.length) {
          const res = view.storeFlags(unseen, 'add', ['\\Seen']);
          const byUid = new Map(res.changed.map((r) => [r.uid, r]));
          for (const r of res.changed) session.selfChanged.set(r.uid, r.modseq);
          recs = recs.map((r) => {
            const c = byUid.get(r.uid);
            return c ? { ...r, flags: c.flags, modseq: c.modseq, _seenSet: true } : r;
          });
        }
      }
      // one index query for the batch's cached envelopes/structures instead of one per message
      const caches =
        needCache && view.caches
          ? view.caches(
              recs.map((r) => r.uid),
              { textOnly: cacheTextOnly },
            )
          : null;
      for (const rec of recs) {
        const seq = indexOfUid(all, rec.uid) + 1;
        if (seq <= 0) continue;
        const seenSet = !!(rec as { _seenSet?: boolean })._seenSet;
        if (textOnly) {
          // nothing to stream: written synchronously, the batch's drain below is the only await
          writeText(session, view, seq, rec, list, needCache, seenSet, caches);
          continue;
        }
        await writeOne(session, view, seq, rec, list, needCache, seenSet, caches);
        if (session.isClosed()) return;
      }
      await session.out.drain();
    }
    uids = [];
  },
};
export default fetch;

async function writeOne(
  session: ImapSession,
  view: MailboxView,
  seq: number,
  rec: MessageRecord,
  items: FetchItem[],
  needCache: boolean,
  seenSet: boolean,
  caches: Map<number, MessageCache> | null,
): Promise<void> {
  const out = session.out;
  const utf8 = session.utf8;
  let cache: MessageCache | null = null;
  if (needCache) {
    cache = cacheOf(session, view, rec, caches);
    if (!cache) return;
  }
  const parts: string[] = [];
  // text parts are collected and written before each literal, so the order is kept
  const flushText = (): void => {
    if (parts.length) {
      out.write(parts.join(''));
      parts.length = 0;
    }
  };
  // RFC 3516 §4.2: a BINARY section in an encoding we cannot decode is refused before any output
  for (const it of items) {
    if (it.k !== 'section' || !it.binary || !cache) continue;
    const r = sectionRange(cache.body, cache.headerSize, rec.size, it.path, '', [], true);
    if (r.encoding && !isKnownEncoding(r.encoding))
      throw new ImapReplyError('NO', 'Unknown Content-Transfer-Encoding', 'UNKNOWN-CTE');
  }
  // the response is gathered as text and written once, or before each literal
  parts.push(`* ${seq} FETCH (`);
  let first = true;
  const sep = (): string => {
    const s = first ? '' : ' ';
    first = false;
    return s;
  };
  let flagsSent = false;
  for (const it of items) {
    if (it.k === 'simple') {
      if (it.name === 'FLAGS') flagsSent = true;
      parts.push(sep() + simpleItem(it.name, rec, cache, utf8));
      continue;
    }
    if (it.k === 'binarysize') {
      const r = sectionRange(cache!.body, cache!.headerSize, rec.size, it.path, '', [], true);
      // an unknown encoding cannot be decoded: report the raw size (BINARY[] would then be NIL)
      const known = !r.encoding || isKnownEncoding(r.encoding);
      const n = r.missing
        ? 0
        : r.encoding && known
          ? await decodedSize(view, rec.uid, r.start, r.end, r.encoding)
          : r.end - r.start;
      parts.push(`${sep()}${it.label} ${n}`);
      continue;
    }
    // a body section: a literal streamed from the file
    parts.push(sep());
    flushText();
    await writeSection(session, view, rec, it, cache!);
  }
  if (seenSet && !flagsSent) parts.push(`${sep()}FLAGS (${rec.flags.join(' ')})`);
  parts.push(')\r\n');
  flushText();
}

/** the message's cached envelope/structure, or null (logged) when it was expunged meanwhile */
function cacheOf(
  session: ImapSession,
  view: MailboxView,
  rec: MessageRecord,
  caches: Map<number, MessageCache> | null,
): MessageCache | null {
  if (caches) {
    const c = caches.get(rec.uid);
    // expunged by another session since the records were read: nothing was written yet, skip it
    if (!c) session.log.debug(`fetch: uid ${rec.uid} vanished`);
    return c ?? null;
  }
  try {
    return view.cache(rec.uid);
  } catch (e) {
    session.log.debug(`fetch: uid ${rec.uid} vanished: ${e instanceof Error ? e.message : String(e)}`);
    return null;
  }
}

/** one simple fetch-att (FLAGS, UID, ENVELOPE, ...) as text */
function simpleItem(name: string, rec: MessageRecord, cache: MessageCache | null, utf8: boolean): string {
  switch (name) {
    case 'FLAGS':
      return `FLAGS (${rec.flags.join(' ')})`;
    case 'UID':
      return `UID ${rec.uid}`;
    case 'INTERNALDATE':
      return `INTERNALDATE "${formatImapDateTime(rec.internalDate)}"`;
    case 'RFC822.SIZE':
      return `RFC822.SIZE ${rec.size}`;
    case 'ENVELOPE':
      return `ENVELOPE ${utf8 ? envelopeText(cache!.envelope, true) : cache!.envelopeImap}`;
    case 'BODY':
      return `BODY ${bodyText(cache!.body, false, utf8)}`;
    case 'BODYSTRUCTURE':
      return `BODYSTRUCTURE ${utf8 ? bodyText(cache!.body, true, true) : cache!.bodyStructureImap}`;
    case 'MODSEQ':
      return `MODSEQ (${rec.modseq})`;
    case 'EMAILID':
      return `EMAILID (${rec.emailId})`;
    case 'THREADID':
      return rec.threadId ? `THREADID (${rec.threadId})` : 'THREADID NIL';
    case 'SAVEDATE':
      return `SAVEDATE ${rec.saveDate ? `"${formatImapDateTime(rec.saveDate)}"` : 'NIL'}`;
    case 'PREVIEW':
      return `PREVIEW ${nstr(cache!.preview, utf8)}`;
  }
  return '';
}

/** a whole `* n FETCH (...)` response of simple items only, written without waiting */
function writeText(
  session: ImapSession,
  view: MailboxView,
  seq: number,
  rec: MessageRecord,
  items: FetchItem[],
  needCache: boolean,
  seenSet: boolean,
  caches: Map<number, MessageCache> | null,
): void {
  let cache: MessageCache | null = null;
  if (needCache) {
    cache = cacheOf(session, view, rec, caches);
    if (!cache) return;
  }
  let s = `* ${seq} FETCH (`;
  let flagsSent = false;
  for (let k = 0; k < items.length; k++) {
    const it = items[k]!;
    if (it.k !== 'simple') continue;
    if (it.name === 'FLAGS') flagsSent = true;
    s += (k === 0 ? '' : ' ') + simpleItem(it.name, rec, cache, session.utf8);
  }
  if (seenSet && !flagsSent) s += ` FLAGS (${rec.flags.join(' ')})`;
  session.out.write(s + ')\r\n');
}

async function writeSection(
  session: ImapSession,
  view: MailboxView,
  rec: MessageRecord,
  it: SectionItem,
  cache: { body: import('../../../mail/api.js').BodyPart; headerSize: number },
): Promise<void> {
  const out = session.out;
  const r = sectionRange(cache.body, cache.headerSize, rec.size, it.path, it.text, it.fields, it.binary);
  const label = it.label + (it.partial ? `<${it.partial.start}>` : '');
  if (r.missing) {
    out.write(`${label} ${it.binary ? 'NIL' : '""'}`);
    return;
  }
  const clip = (len: number): [number, number] => {
    if (!it.partial) return [0, len];
    const s = Math.min(it.partial.start, len);
    return [s, Math.min(len, s + it.partial.count)];
  };
  if (r.filter) {
    // header fields: the header block is small and must be read to be filtered
    const header = await readAll(view.open(rec.uid, r.start, r.end));
    const data = filterHeader(header, r.filter.fields, r.filter.not);
    const [a, b] = clip(data.length);
    out.write(`${label} {${b - a}}\r\n`);
    out.write(data.subarray(a, b));
    return;
  }
  if (r.encoding && it.binary) {
    const enc = r.encoding;
    if (!isKnownEncoding(enc)) {
      out.write(`${label} NIL`);
      return;
    }
    const dec = decoderFor(enc);
    if (dec) {
      const total = await decodedSize(view, rec.uid, r.start, r.end, enc);
      const [a, b] = clip(total);
      out.write(`${label} ~{${b - a}}\r\n`);
      const src = view.open(rec.uid, r.start, r.end).pipe(dec);
      await out.pipeExact(skipBytes(src, a), b - a);
      return;
    }
  }
  const len = r.end - r.start;
  const [a, b] = clip(len);
  out.write(`${label} ${it.binary ? '~' : ''}{${b - a}}\r\n`);
  if (b > a) await out.pipeExact(view.open(rec.uid, r.start + a, r.start + b), b - a);
}

/** drop the first `n` bytes of a stream (partial BINARY after decoding) */
async function* skipGen(src: AsyncIterable<Buffer>, n: number): AsyncGenerator<Buffer> {
  let skip = n;
  for await (const c of src) {
    if (skip >= c.length) {
      skip -= c.length;
      continue;
    }
    yield skip ? c.subarray(skip) : c;
    skip = 0;
  }
}

function skipBytes(src: Readable, n: number): Readable {
  if (n === 0) return src;
  // Readable.from pulls from the generator only when read, so backpressure is kept
  const r = Readable.from(skipGen(src as AsyncIterable<Buffer>, n));
  r.on('close', () => src.destroy());
  return r;
}
