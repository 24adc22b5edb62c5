/**
 * FETCH data items (RFC 3501 §6.4.5, RFC 9051 §6.4.5, BINARY RFC 3516, CONDSTORE RFC 7162,
 * OBJECTID RFC 8474, SAVEDATE RFC 8514, PREVIEW RFC 8970) parsed into a typed list, and
 * section specifiers resolved to byte ranges of the message file.
 *
 * Owns: the fetch-att grammar (macros ALL/FAST/FULL, `BODY[section]<partial>`,
 * `BODY.PEEK`, `BINARY[.PEEK]`, `BINARY.SIZE`, RFC822.*), and `sectionRange`, which maps a
 * section onto [start, end) of the file using the cached body structure.
 * Imports: mail/api.ts types, args.ts, parser.ts, find-part.ts.
 */
import type { BodyPart } from '../../mail/api.js';
import { ImapSyntaxError } from './args.js';
import { findPart } from './find-part.js';
import type { Token } from './parser.js';

export type SimpleItem =
  | 'FLAGS'
  | 'INTERNALDATE'
  | 'RFC822.SIZE'
  | 'ENVELOPE'
  | 'BODY'
  | 'BODYSTRUCTURE'
  | 'UID'
  | 'MODSEQ'
  | 'EMAILID'
  | 'THREADID'
  | 'SAVEDATE'
  | 'PREVIEW';

export type SectionText = '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';

export interface SectionItem {
  k: 'section';
  /** the name to echo, without the partial: `BODY[HEADER.FIELDS (FROM)]`, `RFC822.HEADER` */
  label: string;
  peek: boolean;
  binary: boolean;
  path: number[];
  text: SectionText;
  /** upper-case field names for HEADER.FIELDS(.NOT) */
  fields: string[];
  partial: { start: number; count: number } | null;
}

export interface BinarySizeItem {
  k: 'binarysize';
  label: string;
  path: number[];
}

export type FetchItem = { k: 'simple'; name: SimpleItem } | SectionItem | BinarySizeItem;

const SIMPLE = new Set<SimpleItem>([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'EMAILID',
  'THREADID',
  'SAVEDATE',
  'PREVIEW',
]);

const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const ATT_RE = /^(BODY\.PEEK|BODY|BINARY\.PEEK|BINARY\.SIZE|BINARY)\[([^]*)\](?:<(\d{1,10})\.(\d{1,10})>)?$/i;

/** Parse the fetch attributes: a macro, one attribute, or a list. `cmd` is for error texts. */
export function parseFetchItems(t: Token, cmd: string): FetchItem[] {
  if (t.t === 'atom') {
    const m = MACROS[t.v.toUpperCase()];
    if (m) return m.map((name) => ({ k: 'simple', name }));
    return [parseOne(t.v, cmd)];
  }
  if (t.t !== 'list' || t.v.length === 0) throw new ImapSyntaxError(`Invalid Fetch attribute in ${cmd}`);
  return t.v.map((x) => {
    if (x.t !== 'atom') throw new ImapSyntaxError(`Invalid Fetch attribute in ${cmd}`);
    return parseOne(x.v, cmd);
  });
}

function parseOne(s: string, cmd: string): FetchItem {
  const up = s.toUpperCase();
  if (SIMPLE.has(up as SimpleItem)) return { k: 'simple', name: up as SimpleItem };
  if (up === 'RFC822')
    return {
      k: 'section',
      label: 'RFC822',
      peek: false,
      binary: false,
      path: [],
      text: '',
      fields: [],
      partial: null,
    };
  if (up === 'RFC822.HEADER')
    return {
      k: 'section',
      label: 'RFC822.HEADER',
      peek: true,
      binary: false,
      path: [],
      text: 'HEADER',
      fields: [],
      partial: null,
    };
  if (up === 'RFC822.TEXT')
    return {
      k: 'section',
      label: 'RFC822.TEXT',
      peek: false,
      binary: false,
      path: [],
      text: 'TEXT',
      fields: [],
      partial: null,
    };
  const m = ATT_RE.exec(s);
  if (!m) throw new ImapSyntaxError(`Invalid ${cmd} attribute ${s}`);
  const kind = m[1]!.toUpperCase();
  const binary = kind.startsWith('BINARY');
  const sec = parseSection(m[2]!, binary, cmd);
  if (kind === 'BINARY.SIZE') {
    if (m[3] !== undefined) throw new ImapSyntaxError(`Invalid ${cmd} attribute ${s}`);
    return { k: 'binarysize', label: `BINARY.SIZE[${m[2]}]`, path: sec.path };
  }
  const partial = m[3] !== undefined ? { start: Number(m[3]), count: Number(m[4]) } : null;
  const peek = kind.endsWith('.PEEK');
  const base = binary ? 'BINARY' : 'BODY';
  return {
    k: 'section',
    label: `${base}[${sec.canon}]`,
    peek,
    binary,
    path: sec.path,
    text: sec.text,
    fields: sec.fields,
    partial,
  };
}

/** section-spec inside the brackets; `canon` is how it is echoed back */
function parseSection(
  inner: string,
  binary: boolean,
  cmd: string,
): { path: number[]; text: SectionText; fields: string[]; canon: string } {
  const bad = (): never => {
    throw new ImapSyntaxError(`Invalid ${cmd} section`);
  };
  const m =
    /^((?:[1-9]\d{0,8})(?:\.[1-9]\d{0,8})*)?(?:(?:^|\.)(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?:\s+\(([^]*)\))?$/i.exec(
      inner.trim(),
    );
  if (!m) return bad();
  const path = m[1] ? m[1].split('.').map(Number) : [];
  const text = (m[2] ?? '').toUpperCase() as SectionText;
  if (binary && text !== '') return bad();
  if (text === 'MIME' && path.length === 0) return bad();
  let fields: string[] = [];
  if (text === 'HEADER.FIELDS' || text === 'HEADER.FIELDS.NOT') {
    if (m[3] === undefined) return bad();
    fields = tokenizeFields(m[3]).map((f) => f.toUpperCase());
    if (fields.length === 0) return bad();
  } else if (m[3] !== undefined) return bad();
  const canon =
    path.join('.') +
    (path.length && text ? '.' : '') +
    text +
    (fields.length ? ` (${fields.join(' ')})` : '');
  return { path, text, fields, canon };
}

/** header-list = "(" header-fld-name *(SP header-fld-name) ")"; names are astrings */
function tokenizeFields(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^\s()"]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!);
  return out;
}

/** What a section needs from the file. */
export interface SectionRange {
  start: number;
  end: number;
  /** filter the header lines in [start,end) by these names (HEADER.FIELDS[.NOT]) */
  filter?: { fields: string[]; not: boolean };
  /** decode with this Content-Transfer-Encoding (BINARY) */
  encoding?: string;
  /** the section does not exist (NIL / empty) */
  missing?: boolean;
}

/** Resolve a section against the cached structure of a message of `size` octets. */
export function sectionRange(
  body: BodyPart,
  headerSize: number,
  size: number,
  path: number[],
  text: SectionText,
  fields: string[],
  binary: boolean,
): SectionRange {
  if (path.length === 0) {
    switch (text) {
      case '':
        return { start: 0, end: size };
      case 'HEADER':
        return { start: 0, end: headerSize };
      case 'HEADER.FIELDS':
      case 'HEADER.FIELDS.NOT':
        return { start: 0, end: headerSize, filter: { fields, not: text === 'HEADER.FIELDS.NOT' } };
      case 'TEXT':
        return { start: headerSize, end: size };
      default:
        return { start: 0, end: 0, missing: true };
    }
  }
  const ref = findPart(body, path, size);
  if (!ref) return { start: 0, end: 0, missing: true };
  const p = ref.part;
  switch (text) {
    case '': {
      const r: SectionRange = { start: p.bodyStart, end: p.bodyEnd };
      if (binary && !p.parts) r.encoding = p.encoding;
      return r;
    }
    case 'MIME':
      return { start: p.headerStart, end: p.bodyStart };
    case 'HEADER':
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT':
      if (!ref.msg) return { start: 0, end: 0, missing: true };
      return {
        start: ref.msg.headerStart,
        end: ref.msg.bodyStart,
        filter: text === 'HEADER' ? undefined : { fields, not: text === 'HEADER.FIELDS.NOT' },
      };
    case 'TEXT':
      if (!ref.msg) return { start: 0, end: 0, missing: true };
      return { start: ref.msg.bodyStart, end: ref.msg.bodyEnd };
  }
}

/** Keep (or drop, with `not`) the named header fields of a header block; always ends with the blank line. */
export function filterHeader(header: Buffer, fields: string[], not: boolean): Buffer {
  const want = new Set(fields.map((f) => f.toLowerCase()));
  const out: Buffer[] = [];
  let i = 0;
  let keep = false;
  while (i < header.length) {
    let nl = header.indexOf(0x0a, i);
    if (nl < 0) nl = header.length - 1;
    const line = header.subarray(i, nl + 1);
    i = nl + 1;
    if (line.length === 0 || line[0] === 0x0d || line[0] === 0x0a) break; // blank line: end of header
    if (line[0] === 0x20 || line[0] === 0x09) {
      if (keep) out.push(line);
      continue;
    }
    const colon = line.indexOf(0x3a);
    const name = colon > 0 ? line.toString('latin1', 0, colon).trim().toLowerCase() : '';
    keep = want.has(name) !== not;
    if (keep) out.push(line);
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}
