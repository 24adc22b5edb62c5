/**
 * The contract of the message parser (RFC 5322, MIME RFC 2045-2049), run once per message at
 * APPEND or delivery. Its result is cached by the store; FETCH and SEARCH never re-parse.
 *
 * Owns: the types only; `parse.ts` implements `parseMessage`.
 * Byte offsets are from the start of the message file, so the IMAP server can stream
 * BODY[1.2.HEADER], BODY[1.TEXT], BODY[1.MIME] straight from the file.
 */

/** One address of an ENVELOPE (RFC 3501 7.4.2 / RFC 9051 7.5.2), values as raw header text. */
export interface EnvelopeAddress {
  /** display name, raw (still RFC 2047 encoded if it was), or null */
  name: string | null;
  /** source route (obsolete), normally null */
  adl: string | null;
  /** local part; for a group start: the group name with host null; for a group end: null with host null */
  mailbox: string | null;
  host: string | null;
}

/**
 * IMAP ENVELOPE fields: raw (undecoded) header values, null where absent. As RFC 3501 7.4.2
 * requires, the parser fills an absent or empty Sender and Reply-To with the From list.
 */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/** One MIME part with all that BODYSTRUCTURE needs and where its bytes are. */
export interface BodyPart {
  /** lower-case as received is fine; IMAP upper-cases nothing (defaults: "text"/"plain") */
  type: string;
  subtype: string;
  /** Content-Type parameters in order, names lower-case, values decoded from RFC 2231 */
  params: [string, string][];
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, default "7bit" */
  encoding: string;
  /** octets of the body of this part (after its header) */
  size: number;
  /** lines of the body (text/* and message/rfc822) */
  lines: number;
  md5: string | null;
  disposition: { type: string; params: [string, string][] } | null;
  language: string[] | null;
  location: string | null;
  /** offset of this part's header (MIME header for a sub-part, message header for the top) */
  headerStart: number;
  /** offset where the body begins (just after the blank line) */
  bodyStart: number;
  /** offset just past the body */
  bodyEnd: number;
  /** children of a multipart */
  parts?: BodyPart[];
  /** the encapsulated message of a message/rfc822 (or message/global) part */
  message?: { envelope: Envelope; body: BodyPart; headerStart: number; bodyStart: number };
}

export interface ParsedMessage {
  /** total octets */
  size: number;
  /** SHA-1 of the whole message, lower-case hex (Cyrus's GUID) */
  guid: string;
  envelope: Envelope;
  body: BodyPart;
  /** offset of the top-level body (octets of the header block including the blank line) */
  headerSize: number;
  /** lines of the whole message */
  lines: number;
  /** Date: header parsed, ms since epoch, or null */
  sentDate: number | null;
  /**
   * Search text, decoded (RFC 2047 words, transfer encodings, charsets to UTF-8), case-folded
   * for case-insensitive substring search (String.prototype.toLowerCase on NFC).
   * `headers` holds "name: value\n" lines of the top-level header; `body` the text of every
   * text/* part (HTML reduced to text) and the header lines of attached messages, joined by
   * "\n". Bounded: at most `maxSearchText` chars.
   */
  searchHeaders: string;
  searchBody: string;
  /** searchBody was cut at `maxSearchText`: more text follows in the message */
  searchTruncated?: boolean;
  /** RFC 8970 PREVIEW: up to 256 chars of the first text part, whitespace folded */
  preview: string;
  /** decoded Subject/From/To/Cc for SORT (RFC 5256 base subject is computed by the caller) */
  sortSubject: string;
  sortFrom: string;
  sortTo: string;
  sortCc: string;
  /** RFC 5957 DISPLAYFROM/DISPLAYTO keys: decoded display name of the first address, else its addr-spec */
  sortDisplayFrom?: string;
  sortDisplayTo?: string;
}

export interface ParseOptions {
  /** cap on searchBody (chars), default 1 MiB; also on searchHeaders unless maxHeaderText */
  maxSearchText?: number;
  /** cap on searchHeaders (chars), default maxSearchText */
  maxHeaderText?: number;
}
