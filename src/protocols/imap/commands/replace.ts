/**
 * REPLACE and UID REPLACE (RFC 8508 §3):
 *   tag [UID] REPLACE (seq-number / uid) mailbox [flag-list] [date-time] (literal / CATENATE (...) / UTF8 (literal8))
 * The new message is appended to `mailbox` first; only when that worked is the old one expunged
 * from the selected mailbox. The client sees `* OK [APPENDUID v u]`, then the EXPUNGE (or
 * VANISHED with QRESYNC), then the tagged OK. A failed append leaves the old message as it was
 * (`NO [TRYCREATE]` for a missing target, `NO [OVERQUOTA]` and others as APPEND gives them).
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parseImapDateTime } from '../../../mail/date.js';
import { MailError } from '../../../store/api.js';
import { ImapSyntaxError, indexOfUid, normaliseFlag, textOf } from '../args.js';
import { catenated, type CatPart } from '../catenate.js';
import type { Command } from '../command.js';
import { bytesOf, type StringToken } from '../parser.js';

const replace: Command = {
  names: ['REPLACE'],
  states: ['selected'],
  uid: true,
  async run({ session, uid }, args) {
    const what = uid ? 'UID Replace' : 'Replace';
    const n = args.atom();
    if (!/^[1-9]\d{0,9}$/.test(n)) throw new ImapSyntaxError(`Invalid message number in ${what}`);
    const raw = args.astringBytes();
    const flags: string[] = [];
    let date: Date | undefined;
    let t = args.peek();
    if (t?.t === 'list') {
      for (const f of args.list().v) {
        const fl = f.t === 'atom' ? normaliseFlag(f.v) : null;
        if (!fl) throw new ImapSyntaxError(`Invalid flag in ${what}`);
        if (!flags.includes(fl)) flags.push(fl);
      }
      t = args.peek();
    }
    if (t?.t === 'string' && !t.literal) {
      const ms = parseImapDateTime(bytesOf(args.string()).toString('latin1'));
      if (ms === null) throw new ImapSyntaxError(`Invalid date-time in ${what}`);
      date = new Date(ms);
      t = args.peek();
    }
    let data: StringToken | CatPart[];
    const word = t?.t === 'atom' ? t.v.toUpperCase() : '';
    if (word === 'CATENATE') {
      // RFC 8508 §3: append-data as in APPEND, CATENATE included (RFC 4469)
      args.atom();
      const list = args.list().v;
      const parts: CatPart[] = [];
      for (let i = 0; i < list.length; i += 2) {
        const kind = list[i]?.t === 'atom' ? (list[i] as { v: string }).v.toUpperCase() : '';
        const val = list[i + 1];
        if (kind === 'TEXT' && val?.t === 'string' && val.literal) parts.push({ kind: 'text', tok: val });
        else if (kind === 'URL' && val && val.t !== 'list') parts.push({ kind: 'url', url: textOf(val)! });
        else throw new ImapSyntaxError(`Invalid CATENATE part in ${what}`);
      }
      if (parts.length === 0) throw new ImapSyntaxError(`Invalid CATENATE part in ${what}`);
      data = parts;
    } else if (word === 'UTF8') {
      if (!session.enabled.has('UTF8=ACCEPT'))
        throw new ImapSyntaxError(`UTF8 ${what} requires ENABLE UTF8=ACCEPT`);
      args.atom();
      const inner = args.list().v;
      const lit = inner[0];
      if (inner.length !== 1 || !lit || lit.t !== 'string' || !lit.binary)
        throw new ImapSyntaxError(`Invalid UTF8 data in ${what}`);
      data = lit;
    } else {
      data = args.string();
      if (!data.literal) throw new ImapSyntaxError(`Missing required argument to ${what}`);
    }
    args.end();

    const st = session.selected();
    const all = st.view.uids();
    let old: number;
    if (uid) {
      old = Number(n);
      if (indexOfUid(all, old) < 0) return { status: 'NO', text: 'No matching message' };
    } else {
      const seq = Number(n);
      if (seq > all.length) throw new ImapSyntaxError(`Invalid message number in ${what}`);
      old = all[seq - 1]!;
    }
    if (st.readOnly) return { status: 'NO', code: 'READ-ONLY', text: 'Mailbox is read-only' };

    const name = session.mailboxIn(raw);
    let done = (): void => {};
    let r;
    try {
      let body: Buffer | Readable;
      if (Array.isArray(data)) {
        const cat = catenated(session, data);
        body = cat.stream;
        done = cat.done;
      } else {
        if (data.size === 0) return { status: 'NO', text: 'Message has no header/body separator' };
        body = data.file
          ? createReadStream(data.file)
          : data.chunks.length === 1
            ? data.chunks[0]!
            : Readable.from(data.chunks);
      }
      r = await session.store.append(session.who(), name, body, { flags, internalDate: date });
    } catch (e) {
      if (e instanceof MailError && e.kind === 'notFound')
        return { status: 'NO', code: 'TRYCREATE', text: 'Mailbox does not exist' };
      throw e;
    } finally {
      done();
    }
    session.untagged(`OK [APPENDUID ${r.uidValidity} ${r.uid}] Replacement Message ready`);
    // the old message goes whatever its flags; nothing else is expunged with it
    const view = st.view;
    const res = view.storeFlags([old], 'add', ['\\Deleted']);
    for (const c of res.changed) session.selfChanged.set(c.uid, c.modseq);
    const gone = view.expunge([old]);
    session.announceExpunges(gone);
    return { text: 'Replace completed' };
  },
};
export default replace;
