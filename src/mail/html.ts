/**
 * HTML reduced to plain text for search and PREVIEW: drops tags, comments, <script>/<style>
 * contents; decodes character references; block elements become line breaks.
 * Owns only this reduction; it is forgiving (unclosed tags and comments end the text).
 */

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  copy: '\u00a9',
  reg: '\u00ae',
  euro: '\u20ac',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  laquo: '\u00ab',
  raquo: '\u00bb',
  lsquo: '\u2018',
  rsquo: '\u2019',
  ldquo: '\u201c',
  rdquo: '\u201d',
  bull: '\u2022',
  middot: '\u00b7',
  eacute: '\u00e9',
  egrave: '\u00e8',
  agrave: '\u00e0',
  auml: '\u00e4',
  ouml: '\u00f6',
  uuml: '\u00fc',
  Auml: '\u00c4',
  Ouml: '\u00d6',
  Uuml: '\u00dc',
  szlig: '\u00df',
  ccedil: '\u00e7',
};

/** Decodes HTML character references (&amp; &#233; &#xE9;); unknown ones stay as written. */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#[xX][0-9a-fA-F]{1,6}|#\d{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});?/g, (all, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff))
        return String.fromCodePoint(code);
      return '\ufffd';
    }
    return NAMED[ref] ?? all;
  });
}

const BLOCK = new Set([
  'p',
  'div',
  'br',
  'tr',
  'li',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'table',
  'ul',
  'ol',
  'blockquote',
  'pre',
  'hr',
  'title',
  'section',
  'article',
  'header',
  'footer',
  'dd',
  'dt',
]);

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** Converts HTML to text. */
export function htmlToText(html: string): string {
  let out = '';
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    if (html.startsWith('<!--', lt)) {
      const end = html.indexOf('-->', lt + 4);
      i = end < 0 ? n : end + 3;
      continue;
    }
    const gt = html.indexOf('>', lt + 1);
    if (gt < 0) break;
    let t = lt + 1;
    const closing = html.charCodeAt(t) === 0x2f;
    if (closing) t++;
    const ts = t;
    while (t < gt && isAlnum(html.charCodeAt(t))) t++;
    const tag = html.slice(ts, t).toLowerCase();
    i = gt + 1;
    if (!closing && (tag === 'script' || tag === 'style' || tag === 'head')) {
      // skip to the matching end tag, found case-insensitively
      const re = new RegExp(`</${tag}`, 'ig');
      re.lastIndex = i;
      const m = re.exec(html);
      if (tag !== 'head' || m) {
        i = m ? m.index : n;
        continue;
      }
    }
    if (BLOCK.has(tag)) out += '\n';
    else if (tag === 'td' || tag === 'th') out += ' ';
  }
  return decodeEntities(out);
}
