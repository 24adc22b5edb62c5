/**
 * Independent second clients for end-to-end tests, so a test reads back what another client did
 * through a different implementation: Python's imaplib, poplib and smtplib.LMTP run by python3.
 *
 * Owns: `message` (a small RFC 5322 message), `imapMailbox` (every message of a mailbox: UID,
 * flags, full text), `imapAppend`, `imapList`, `lmtpDeliver`, `popList`.
 *
 * Imports: ./run.ts.
 */
import { python } from './run.js';

/** A small RFC 5322 message with CRLF line ends. */
export function message(
  subject: string,
  body: string,
  from = 'Sender <sender@example.org>',
  to = 'rcpt@example.org',
): string {
  const id = `<${Date.now()}.${Math.random().toString(36).slice(2)}@e2e.example.org>`;
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: ${subject}`,
    `Date: Sat, 28 Nov 2026 12:00:00 +0000`,
    `Message-ID: ${id}`,
    '',
    body,
    '',
  ].join('\r\n');
}

export interface ImapMessage {
  uid: number;
  flags: string[];
  /** the whole message text (RFC822 / BODY.PEEK[]) */
  text: string;
}

const IMAP_MAILBOX = String.raw`
import imaplib, json, re, sys
port, user, pw, box = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
M = imaplib.IMAP4('127.0.0.1', port)
M.login(user, pw)
typ, data = M.select('"' + box + '"', readonly=True)
if typ != 'OK':
    print(json.dumps({'error': data[0].decode()})); sys.exit(0)
out = []
if int(data[0]) > 0:
    typ, data = M.uid('FETCH', '1:*', '(UID FLAGS BODY.PEEK[])')
    for item in data:
        if isinstance(item, tuple):
            head = item[0].decode()
            uid = int(re.search(r'UID (\d+)', head).group(1))
            flags = re.search(r'FLAGS \(([^)]*)\)', head).group(1).split()
            out.append({'uid': uid, 'flags': flags, 'text': item[1].decode('utf-8', 'replace')})
M.logout()
print(json.dumps({'messages': out}))
`;

/** Every message of `mailbox` as Python's imaplib sees it (EXAMINE, UID FETCH 1:*). */
export async function imapMailbox(
  port: number,
  user: string,
  pass: string,
  mailbox = 'INBOX',
): Promise<ImapMessage[]> {
  const r = await python<{ messages?: ImapMessage[]; error?: string }>(IMAP_MAILBOX, [
    port,
    user,
    pass,
    mailbox,
  ]);
  if (r.error !== undefined) throw new Error(`EXAMINE ${mailbox}: ${r.error}`);
  return r.messages!;
}

const IMAP_APPEND = String.raw`
import imaplib, json, sys
port, user, pw, box, flags = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
msg = sys.stdin.buffer.read()
M = imaplib.IMAP4('127.0.0.1', port)
M.login(user, pw)
typ, data = M.append('"' + box + '"', flags or None, None, msg)
M.logout()
print(json.dumps([typ, data[0].decode() if data and data[0] else '']))
`;

/** APPEND through imaplib; returns [status, response text]. */
export function imapAppend(
  port: number,
  user: string,
  pass: string,
  mailbox: string,
  msg: string | Buffer,
  flags = '',
): Promise<[string, string]> {
  return python<[string, string]>(IMAP_APPEND, [port, user, pass, mailbox, flags], 60_000, msg);
}

const IMAP_LIST = String.raw`
import imaplib, json, sys
M = imaplib.IMAP4('127.0.0.1', int(sys.argv[1]))
M.login(sys.argv[2], sys.argv[3])
typ, data = M.list()
M.logout()
print(json.dumps([d.decode() for d in data if d]))
`;

/** LIST "" * lines through imaplib. */
export function imapList(port: number, user: string, pass: string): Promise<string[]> {
  return python<string[]>(IMAP_LIST, [port, user, pass]);
}

const LMTP_DELIVER = String.raw`
import json, smtplib, sys
target, rcpt = sys.argv[1], sys.argv[2]
msg = sys.stdin.buffer.read()
if target.startswith('/'):
    L = smtplib.LMTP(target)
else:
    L = smtplib.LMTP('127.0.0.1', int(target))
L.ehlo('e2e.example.org')
refused = L.sendmail('sender@example.org', [rcpt], msg)
L.quit()
print(json.dumps({'refused': {k: [v[0], v[1].decode()] for k, v in refused.items()}}))
`;

/** Deliver over LMTP (a TCP port or the unix socket path) with smtplib.LMTP; throws when refused. */
export async function lmtpDeliver(
  target: number | string,
  rcpt: string,
  msg: string | Buffer,
): Promise<void> {
  const r = await python<{ refused: Record<string, [number, string]> }>(
    LMTP_DELIVER,
    [String(target), rcpt],
    60_000,
    msg,
  );
  if (Object.keys(r.refused).length > 0) throw new Error(`LMTP refused: ${JSON.stringify(r.refused)}`);
}

const POP_LIST = String.raw`
import json, poplib, sys
P = poplib.POP3('127.0.0.1', int(sys.argv[1]))
P.user(sys.argv[2]); P.pass_(sys.argv[3])
count, size = P.stat()
msgs = []
for i in range(1, count + 1):
    resp, lines, octets = P.retr(i)
    msgs.append(b'\r\n'.join(lines).decode('utf-8', 'replace'))
P.quit()
print(json.dumps(msgs))
`;

/** Every message of the maildrop through poplib (USER/PASS, STAT, RETR; nothing deleted). */
export function popList(port: number, user: string, pass: string): Promise<string[]> {
  return python<string[]>(POP_LIST, [port, user, pass]);
}

const LMTP_MANY = String.raw`
import json, smtplib, sys
target, rcpt = sys.argv[1], sys.argv[2]
msgs = json.load(sys.stdin)
L = smtplib.LMTP(target) if target.startswith('/') else smtplib.LMTP('127.0.0.1', int(target))
L.ehlo('e2e.example.org')
refused = 0
for m in msgs:
    try:
        L.sendmail('sender@example.org', [rcpt], m.encode())
    except smtplib.SMTPException:
        refused += 1
L.quit()
print(json.dumps(refused))
`;

/** Deliver many messages over one LMTP session; throws when any is refused. */
export async function lmtpDeliverMany(target: number | string, rcpt: string, msgs: string[]): Promise<void> {
  const refused = await python<number>(LMTP_MANY, [String(target), rcpt], 120_000, JSON.stringify(msgs));
  if (refused > 0) throw new Error(`LMTP refused ${refused} of ${msgs.length} messages`);
}
