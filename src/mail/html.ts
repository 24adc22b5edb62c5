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

const BLOCK =
  /^(p|div|br|tr|li|h[1-6]|table|ul|ol|blockquote|pre|hr|title|section|article|header|footer|dd|dt)$/i;

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
    const m = /^<\/?\s*([a-zA-Z][a-zA-Z0-9]*)/.exec(html.slice(lt, Math.min(gt + 1, lt + 40)));
    const tag = m ? m[1].toLowerCase() : '';
    i = gt + 1;
    if ((tag === 'script' || tag === 'style' || tag === 'head') && html[lt + 1] !== '/') {
      const close = html.toLowerCase().indexOf(`</${tag}`, i);
      if (tag !== 'head' || close >= 0) {
        i = close < 0 ? n : close;
        continue;
      }
    }
    if (BLOCK.test(tag)) out += '\n';
    else if (tag === 'td' || tag === 'th') out += ' ';
  }
  return decodeEntities(out);
}
