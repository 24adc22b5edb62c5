/**
 * Deterministic test messages for the comparison benchmarks: the same seed and index always
 * give the same bytes, so every server is loaded with identical mail.
 *
 * Owns: a small seeded PRNG, `makeMessage(i, opts)` (realistic headers, plain, multipart/
 * alternative or multipart/mixed with a base64 attachment, CRLF lines under 78 characters,
 * no line starting with a dot), and the names and words the SEARCH workloads look for.
 */

/** mulberry32: a tiny, fast, seeded generator of floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'Alice',
  'Bruno',
  'Chloe',
  'Dmitri',
  'Elena',
  'Farid',
  'Greta',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemal',
  'Lucia',
];
const LAST = [
  'Anders',
  'Bauer',
  'Costa',
  'Duval',
  'Eriksen',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Jensen',
];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'lists.example.edu'];
const WORDS = (
  'the of and to in is that for it as with was on be by at this from or have an not are but had ' +
  'meeting report budget schedule review project release server mailbox delivery quarter draft ' +
  'invoice contract update agenda minutes proposal summary deadline customer support network ' +
  'storage backup migration security patch ticket request approval travel office holiday team'
).split(' ');
const TLDR = ['Re: ', 'Fwd: ', '', '', ''];

/** The sender name SEARCH FROM looks for (one of the FIRST names: about 1 message in 12). */
export const SEARCH_FROM = 'Greta';
/** A word put in about 1 message in 50 (in the body), looked for by SEARCH TEXT. */
export const SEARCH_WORD = 'zanzibar';

export interface MessageOptions {
  seed?: number;
  /** wanted size in bytes; default: 1-20 KB chosen by the generator */
  size?: number;
  /** recipient shown in To: */
  to?: string;
  /** mixed into the Message-ID so separate runs never look like duplicates */
  tag?: string;
  /** leave the Message-ID out (the caller prepends its own) */
  noMessageId?: boolean;
}

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

function words(r: () => number, bytes: number, rare: boolean): string {
  const lines: string[] = [];
  let line = '';
  let total = 0;
  let rareDone = !rare;
  while (total < bytes) {
    let w = pick(r, WORDS);
    if (!rareDone && r() < 0.02) {
      w = SEARCH_WORD;
      rareDone = true;
    }
    if (line.length + w.length + 1 > 72) {
      lines.push(line);
      total += line.length + 2;
      line = '';
      if (r() < 0.08) {
        lines.push('');
        total += 2;
      }
    }
    line = line ? `${line} ${w}` : w[0]!.toUpperCase() + w.slice(1);
  }
  if (!rareDone) lines.push(`PS: see you in ${SEARCH_WORD}.`);
  if (line) lines.push(line);
  return lines.join('\r\n') + '\r\n';
}

function base64Lines(r: () => number, bytes: number): string {
  const raw = Buffer.alloc(Math.max(1, Math.floor((bytes * 3) / 4)));
  for (let i = 0; i < raw.length; i++) raw[i] = Math.floor(r() * 256);
  const b = raw.toString('base64');
  const out: string[] = [];
  for (let i = 0; i < b.length; i += 76) out.push(b.slice(i, i + 76));
  return out.join('\r\n') + '\r\n';
}

/** Message number i (0-based) for the given seed: the bytes of an RFC 5322 message. */
export function makeMessage(i: number, opts: MessageOptions = {}): Buffer {
  const r = rng((opts.seed ?? 1) * 1_000_003 + i);
  const size = opts.size ?? 1024 + Math.floor(r() * 19 * 1024);
  const first = pick(r, FIRST);
  const last = pick(r, LAST);
  const from = `"${first} ${last}" <${first.toLowerCase()}.${last.toLowerCase()}@${pick(r, DOMAINS)}>`;
  const date = new Date(Date.UTC(2024, 0, 1) + i * 61_000 + Math.floor(r() * 60_000));
  const subject = `${pick(r, TLDR)}${pick(r, WORDS)} ${pick(r, WORDS)} ${pick(r, WORDS)} #${i}`;
  const id = `<${opts.tag ?? 'm'}.${opts.seed ?? 1}.${i}@bench.example>`;
  const rare = r() < 0.02;
  const kind = r();
  const head = [
    'Return-Path: <' + first.toLowerCase() + '@bench.example>',
    `Received: from mx${i % 7}.example.net (mx${i % 7}.example.net [192.0.2.${i % 250}])`,
    `\tby mail.bench.example with ESMTPS id ${(i * 2654435761) >>> 0}; ${date.toUTCString()}`,
    `From: ${from}`,
    `To: ${opts.to ?? 'bench1@localhost'}`,
    ...(r() < 0.3 ? [`Cc: "${pick(r, FIRST)} ${pick(r, LAST)}" <team@${pick(r, DOMAINS)}>`] : []),
    `Subject: ${subject}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    ...(opts.noMessageId ? [] : [`Message-ID: ${id}`]),
    ...(i > 0 && r() < 0.4
      ? [`In-Reply-To: <${opts.tag ?? 'm'}.${opts.seed ?? 1}.${i - 1}@bench.example>`]
      : []),
    'MIME-Version: 1.0',
  ];
  const headLen = head.join('\r\n').length + 200;
  const bodyBytes = Math.max(200, size - headLen);
  let body: string;
  if (kind < 0.6 || size > 200_000) {
    head.push('Content-Type: text/plain; charset=us-ascii', 'Content-Transfer-Encoding: 7bit');
    body = words(r, bodyBytes, rare);
  } else if (kind < 0.8) {
    const b = `=_alt_${i}`;
    head.push(`Content-Type: multipart/alternative; boundary="${b}"`);
    const text = words(r, bodyBytes / 2, rare);
    const html = '<html><body><p>\r\n' + words(r, bodyBytes / 2 - 40, false) + '</p></body></html>\r\n';
    body =
      `This is a multi-part message in MIME format.\r\n\r\n--${b}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}` +
      `--${b}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${html}--${b}--\r\n`;
  } else {
    const b = `=_mix_${i}`;
    head.push(`Content-Type: multipart/mixed; boundary="${b}"`);
    const text = words(r, bodyBytes * 0.4, rare);
    const att = base64Lines(r, bodyBytes * 0.6);
    body =
      `--${b}\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n${text}` +
      `--${b}\r\nContent-Type: application/pdf; name="report-${i}.pdf"\r\nContent-Disposition: attachment; filename="report-${i}.pdf"\r\n` +
      `Content-Transfer-Encoding: base64\r\n\r\n${att}--${b}--\r\n`;
  }
  return Buffer.from(head.join('\r\n') + '\r\n\r\n' + body, 'latin1');
}
