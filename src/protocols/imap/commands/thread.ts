/**
 * THREAD (RFC 5256 §3): `tag [UID] THREAD algorithm charset search-key...` → `* THREAD (...)`.
 * Algorithms: ORDEREDSUBJECT and REFERENCES (thread.ts). Summaries come from the cached
 * envelope; REFERENCES also reads each message's header block (never the body).
 */
import type { Readable } from 'node:stream';
import { parseRfc5322Date } from '../../../mail/date.js';
import { decodeWords } from '../../../mail/decode.js';
import { firstField, splitHeader } from '../../../mail/header.js';
import { baseSubject, isReplyOrForward } from '../../../mail/subject.js';
import { ImapSyntaxError, indexOfUid } from '../args.js';
import type { Command } from '../command.js';
import { BADCHARSET_REPLY, charsetDecoder, parseSearch } from '../search.js';
import { formatThreads, orderedSubject, references, type ThreadMsg } from '../thread.js';

async function readAll(s: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s as AsyncIterable<Buffer>) parts.push(c);
  return Buffer.concat(parts);
}

const msgIds = (s: string | null): string[] => (s ? (s.match(/<[^<>\s]+>/g) ?? []) : []);

const thread: Command = {
  names: ['THREAD'],
  states: ['selected'],
  uid: true,
  noExpungeUnlessUid: true,
  async run({ session, uid }, args) {
    const alg = args.atom().toUpperCase();
    if (alg !== 'ORDEREDSUBJECT' && alg !== 'REFERENCES')
      throw new ImapSyntaxError('Invalid Thread algorithm');
    const decoder = charsetDecoder(args.astring());
    if (!decoder) return BADCHARSET_REPLY;
    const view = session.view();
    const rest: import('../parser.js').Token[] = [];
    while (args.remaining > 0) rest.push(args.take());
    const found = view.search(parseSearch(rest, { uids: view.uids(), decoder, saved: session.savedSearch }));
    const all = view.uids();
    const msgs: ThreadMsg[] = [];
    const recs = new Map(view.records(found).map((r) => [r.uid, r]));
    for (const u of found) {
      const rec = recs.get(u);
      if (!rec) continue;
      let cache;
      try {
        cache = view.cache(u);
      } catch {
        continue;
      }
      const env = cache.envelope;
      const subj = decodeWords(env.subject ?? '');
      let refs: string[] = [];
      if (alg === 'REFERENCES') {
        const header = await readAll(view.open(u, 0, cache.headerSize));
        refs = msgIds(firstField(splitHeader(header), 'references'));
        if (refs.length === 0) refs = msgIds(env.inReplyTo).slice(0, 1);
      }
      msgs.push({
        id: uid ? u : indexOfUid(all, u) + 1,
        date: parseRfc5322Date(env.date) ?? rec.internalDate,
        base: baseSubject(subj).toUpperCase(),
        reply: isReplyOrForward(subj),
        messageId: msgIds(env.messageId)[0] ?? null,
        refs,
      });
    }
    const roots = alg === 'ORDEREDSUBJECT' ? orderedSubject(msgs) : references(msgs);
    session.untagged(`THREAD${roots.length ? ' ' + formatThreads(roots) : ''}`);
  },
};
export default thread;
