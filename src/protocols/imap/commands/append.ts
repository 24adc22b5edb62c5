/**
 * APPEND (RFC 3501 §6.3.11) with MULTIAPPEND (RFC 3502), APPENDUID (UIDPLUS RFC 4315),
 * literal8 messages (BINARY RFC 3516) and CATENATE (RFC 4469, catenate.ts):
 *   tag APPEND mailbox [(flags)] [date-time] literal [[(flags)] [date-time] literal ...]
 * The literal's size was judged against maxmessagesize by the parser before it was read; a big
 * message was spooled to a private file as it arrived and is streamed from there to the store.
 * A missing mailbox gets `NO [TRYCREATE]`.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parseImapDateTime } from '../../../mail/date.js';
import { MailError } from '../../../store/api.js';
import { formatSeqSet, ImapSyntaxError, normaliseFlag, textOf } from '../args.js';
import { catenated, type CatPart } from '../catenate.js';
import type { Command } from '../command.js';
import type { ImapSession } from '../session.js';
import { bytesOf, type StringToken } from '../parser.js';

interface OneMessage {
  flags: string[];
  date?: Date;
  /** a literal, or CATENATE parts */
  data: StringToken | CatPart[];
}

const append: Command = {
  names: ['APPEND'],
  states: ['authenticated', 'selected'],
  async run({ session }, args) {
    const raw = args.astringBytes();
    const msgs: OneMessage[] = [];
    while (args.remaining > 0) {
      let flags: string[] = [];
      let date: Date | undefined;
      let t = args.peek();
      if (t?.t === 'list') {
        flags = [];
        for (const f of args.list().v) {
          const n = f.t === 'atom' ? normaliseFlag(f.v) : null;
          if (!n) throw new ImapSyntaxError('Invalid flag in Append command');
          if (!flags.includes(n)) flags.push(n);
        }
        t = args.peek();
      }
      if (t?.t === 'string' && !t.literal) {
        const ms = parseImapDateTime(bytesOf(args.string()).toString('latin1'));
        if (ms === null) throw new ImapSyntaxError('Invalid date-time in Append command');
        date = new Date(ms);
        t = args.peek();
      }
      if (t?.t === 'atom' && t.v.toUpperCase() === 'CATENATE') {
        // RFC 4469: "CATENATE" SP "(" cat-part *(SP cat-part) ")"; cat-part = "TEXT" SP literal / "URL" SP astring
        args.atom();
        const list = args.list().v;
        const parts: CatPart[] = [];
        for (let i = 0; i < list.length; i += 2) {
          const kind = list[i]?.t === 'atom' ? (list[i] as { v: string }).v.toUpperCase() : '';
          const val = list[i + 1];
          if (kind === 'TEXT' && val?.t === 'string' && val.literal) parts.push({ kind: 'text', tok: val });
          else if (kind === 'URL' && val && val.t !== 'list') parts.push({ kind: 'url', url: textOf(val)! });
          else throw new ImapSyntaxError('Invalid CATENATE part in Append');
        }
        if (parts.length === 0) throw new ImapSyntaxError('Invalid CATENATE part in Append');
        msgs.push({ flags, date, data: parts });
        continue;
      }
      let data: StringToken;
      if (t?.t === 'atom' && t.v.toUpperCase() === 'UTF8') {
        // RFC 6855 §4: append-data =/ "UTF8" SP "(" literal8 ")"
        if (!session.enabled.has('UTF8=ACCEPT'))
          throw new ImapSyntaxError('UTF8 APPEND requires ENABLE UTF8=ACCEPT');
        args.atom();
        const inner = args.list().v;
        const lit = inner[0];
        if (inner.length !== 1 || !lit || lit.t !== 'string' || !lit.binary)
          throw new ImapSyntaxError('Invalid UTF8 data in Append');
        data = lit;
      } else data = args.string();
      if (!data.literal) throw new ImapSyntaxError('Missing required argument to Append');
      msgs.push({ flags, date, data });
    }
    if (msgs.length === 0) throw new ImapSyntaxError('Missing required argument to Append');
    const name = session.mailboxIn(raw);
    const who = session.who();
    const uids: number[] = [];
    let uidValidity = 0;
    for (const m of msgs) {
      let done = (): void => {};
      try {
        let body: Buffer | Readable;
        if (Array.isArray(m.data)) {
          const cat = catenated(session, m.data);
          body = cat.stream;
          done = cat.done;
        } else {
          if (m.data.size === 0) return { status: 'NO', text: 'Message has no header/body separator' };
          body = m.data.file
            ? createReadStream(m.data.file)
            : m.data.chunks.length === 1
              ? m.data.chunks[0]!
              : Readable.from(m.data.chunks);
        }
        const r = await session.store.append(who, name, body, { flags: m.flags, internalDate: m.date });
        uidValidity = r.uidValidity;
        uids.push(r.uid);
      } catch (e) {
        // RFC 3502: MULTIAPPEND is all or nothing; take back what this command already stored
        if (uids.length) rollback(session, name, uids);
        if (e instanceof MailError && e.kind === 'notFound')
          return { status: 'NO', code: 'TRYCREATE', text: 'Mailbox does not exist' };
        throw e;
      } finally {
        done();
      }
    }
    return { code: `APPENDUID ${uidValidity} ${formatSeqSet(uids)}`, text: 'Completed' };
  },
};
export default append;

/** expunge the messages of a failed MULTIAPPEND (best effort: logged when it cannot) */
function rollback(session: ImapSession, mailbox: string, uids: number[]): void {
  try {
    const view = session.store.open(session.who(), mailbox, { readOnly: false });
    try {
      view.storeFlags(uids, 'add', ['\\Deleted']);
      view.expunge(uids);
    } finally {
      view.close();
    }
  } catch (e) {
    session.log.error(
      `MULTIAPPEND rollback of ${uids.length} messages failed: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
}
