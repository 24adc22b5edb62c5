/**
 * Dates for mail and IMAP.
 *
 * Owns: parsing RFC 5322 date-time (section 3.3, plus the obsolete forms of 4.3 and common
 * broken ones: missing weekday or seconds, two-digit years, named and military zones,
 * "GMT+0200", asctime-like order, extra junk) to ms since the epoch; formatting and parsing
 * the IMAP date-time `"dd-Mon-yyyy hh:mm:ss +zzzz"` (RFC 3501 date-time, for APPEND and
 * INTERNALDATE); and parsing IMAP search dates `d-Mon-yyyy` (RFC 3501 date).
 */

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 4.3 obsolete zones, in minutes east of UTC. Military zones count as 0 (RFC 5322). */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  edt: -240,
  est: -300,
  cdt: -300,
  cst: -360,
  mdt: -360,
  mst: -420,
  pdt: -420,
  pst: -480,
  // common non-standard ones
  bst: 60,
  cet: 60,
  cest: 120,
  met: 60,
  mest: 120,
  eet: 120,
  eest: 180,
  wet: 0,
  west: 60,
  jst: 540,
  kst: 540,
  ist: 330,
  hst: -600,
  akst: -540,
  akdt: -480,
  aest: 600,
  aedt: 660,
};

function monthIndex(s: string): number {
  return MONTHS.indexOf(s.slice(0, 3).toLowerCase());
}

function daysInMonth(y: number, m: number): number {
  return new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
}

/**
 * Parses an RFC 5322 Date header value (or a broken one) to ms since the epoch, or null.
 * A missing zone counts as UTC; an unknown zone name as UTC (RFC 5322 4.3: "-0000").
 */
export function parseRfc5322Date(value: string | null): number | null {
  if (value === null) return null;
  // drop comments and the weekday
  const s = value
    .replace(/\([^)]*\)/g, ' ')
    .replace(/,/g, ' ')
    .trim();
  const words = s.split(/[\s]+/).filter((w) => w.length > 0);
  let day = -1;
  let month = -1;
  let year = -1;
  let h = 0;
  let mi = 0;
  let sec = 0;
  let timeSeen = false;
  let zone: number | null = null;
  for (let k = 0; k < words.length; k++) {
    let w = words[k];
    let m: RegExpExecArray | null;
    if ((m = /^(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\.\d+)?([+-]\d{4}|[zZ])?$/.exec(w)) && !timeSeen) {
      h = +m[1];
      mi = +m[2];
      sec = m[3] ? +m[3] : 0;
      timeSeen = true;
      if (m[4]) zone = m[4] === 'z' || m[4] === 'Z' ? 0 : zoneMinutes(m[4]);
      continue;
    }
    if ((m = /^(\d{1,2})-([a-zA-Z]{3})[a-zA-Z]*-(\d{2,4})$/.exec(w))) {
      // 12-Jan-2024 (IMAP-like)
      day = +m[1];
      month = monthIndex(m[2]);
      year = +m[3];
      continue;
    }
    if ((m = /^(\d{4})-(\d{2})-(\d{2})(?:T(.*))?$/.exec(w))) {
      year = +m[1];
      month = +m[2] - 1;
      day = +m[3];
      if (m[4]) {
        // ISO 8601 time part: "10:52:37Z", "10:52:37+02:00" as two more words
        const t = /^([\d:.]+)(z|[+-]\d\d:?\d\d)?$/i.exec(m[4]);
        if (t) words.splice(k + 1, 0, t[1], ...(t[2] ? [t[2].replace(':', '')] : []));
      }
      continue;
    }
    if (/^[+-]\d{4}$/.test(w) && timeSeen && zone === null) {
      zone = zoneMinutes(w);
      continue;
    }
    if ((m = /^(?:gmt|ut|utc)([+-])(\d{1,2})(?::?(\d{2}))?$/i.exec(w)) && zone === null) {
      zone = (m[1] === '-' ? -1 : 1) * (+m[2] * 60 + (m[3] ? +m[3] : 0));
      continue;
    }
    if (/^\d+$/.test(w)) {
      const v = +w;
      if (day < 0 && w.length <= 2 && v >= 1 && v <= 31 && (month < 0 || year < 0)) day = v;
      else if (year < 0 && (w.length === 4 || w.length === 2 || w.length === 3)) year = v;
      else if (day < 0 && v >= 1 && v <= 31) day = v;
      continue;
    }
    w = w.replace(/\.$/, '');
    const mo = /^[a-zA-Z]{3,}$/.test(w) ? monthIndex(w) : -1;
    if (mo >= 0 && month < 0 && (w.length === 3 || MONTHS.includes(w.slice(0, 3).toLowerCase()))) {
      // "Mar", "March"; weekday names never start with a month abbreviation
      month = mo;
      continue;
    }
    const z = ZONES[w.toLowerCase()];
    if (z !== undefined && zone === null && timeSeen) {
      zone = z;
      continue;
    }
    // single-letter military zones and other junk: ignored (treated as UTC)
  }
  if (day < 1 || month < 0 || year < 0) return null;
  if (year < 50 && String(year).length <= 2) year += 2000;
  else if (year < 1000) year += 1900;
  if (day > daysInMonth(year, month) || h > 23 || mi > 59 || sec > 60) return null;
  const t = Date.UTC(year, month, day, h, mi, Math.min(sec, 59));
  return t - (zone ?? 0) * 60000;
}

function zoneMinutes(z: string): number {
  const sign = z[0] === '-' ? -1 : 1;
  const hh = +z.slice(1, 3);
  const mm = +z.slice(3, 5);
  return sign * (hh * 60 + mm);
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/**
 * Formats an IMAP date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day space-padded, as RFC 3501's
 * date-day-fixed), in the given zone offset (minutes east of UTC, default 0).
 */
export function formatImapDateTime(ms: number, zoneMinutesEast = 0): string {
  const d = new Date(ms + zoneMinutesEast * 60000);
  const sign = zoneMinutesEast < 0 ? '-' : '+';
  const az = Math.abs(zoneMinutesEast);
  return (
    `${String(d.getUTCDate()).padStart(2, ' ')}-${MONTH_NAMES[d.getUTCMonth()]}-${d.getUTCFullYear()} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${sign}${pad(Math.floor(az / 60))}${pad(az % 60)}`
  );
}

/**
 * Parses an IMAP date-time (RFC 3501: `date-day-fixed "-" date-month "-" date-year SP time SP
 * zone`, the day may be space-padded or 1-2 digits) to ms since the epoch, or null if invalid.
 * Surrounding double quotes are accepted.
 */
export function parseImapDateTime(s: string): number | null {
  const m = /^"?( ?\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})"?$/.exec(s);
  if (!m) return null;
  const day = +m[1].trim();
  const month = monthIndex(m[2]);
  const year = +m[3];
  if (month < 0 || day < 1 || day > daysInMonth(year, month)) return null;
  const h = +m[4];
  const mi = +m[5];
  const sec = +m[6];
  const zh = +m[8];
  const zm = +m[9];
  if (h > 23 || mi > 59 || sec > 60 || zm > 59) return null;
  const zone = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  return Date.UTC(year, month, day, h, mi, Math.min(sec, 59)) - zone * 60000;
}

/**
 * Parses an IMAP search date `d-Mon-yyyy` (RFC 3501 `date`, optionally quoted) to the UTC
 * midnight of that day in ms, or null. SEARCH compares dates ignoring time and zone.
 */
export function parseImapDate(s: string): number | null {
  const m = /^"?(\d{1,2})-([A-Za-z]{3})-(\d{4})"?$/.exec(s);
  if (!m) return null;
  const day = +m[1];
  const month = monthIndex(m[2]);
  const year = +m[3];
  if (month < 0 || day < 1 || day > daysInMonth(year, month)) return null;
  return Date.UTC(year, month, day);
}

/** Formats an IMAP search date `d-Mon-yyyy` from ms (UTC day). */
export function formatImapDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()}-${MONTH_NAMES[d.getUTCMonth()]}-${d.getUTCFullYear()}`;
}
