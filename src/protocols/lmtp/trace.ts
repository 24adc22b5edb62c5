/**
 * Trace fields lmtpd puts on top of every delivered message (RFC 5321 4.4): the Received
 * line, with the protocol keyword of RFC 3848 (LMTP, LMTPS, LMTPA, LMTPSA).
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 3.3 date-time in the local zone: `Sat, 28 Nov 2026 16:02:11 +0000` */
export function rfc5322Date(d: Date): string {
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${DAYS[d.getDay()]}, ${d.getDate()} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())} ${sign}${p2(Math.floor(a / 60))}${p2(a % 60)}`
  );
}

export interface TraceInfo {
  lhlo: string;
  remote: string;
  serverName: string;
  product: string;
  secure: boolean;
  authenticated: boolean;
  sessionId: string;
}

export function receivedHeader(t: TraceInfo, now = new Date()): string {
  const proto = `LMTP${t.secure ? 'S' : ''}${t.authenticated ? 'A' : ''}`;
  const clean = (s: string): string => s.replace(/[^\x21-\x7e]/g, '?').slice(0, 255);
  return (
    `Received: from ${clean(t.lhlo) || 'unknown'} (${clean(t.remote)})\r\n` +
    `\tby ${clean(t.serverName) || 'localhost'} (${t.product}) with ${proto};\r\n` +
    `\t${rfc5322Date(now)}\r\n`
  );
}
