/**
 * A minimal, fast IMAP client for timing: tagged commands, any number in flight (pipelining),
 * responses read as bytes with literals skipped by count (never buffered), so a big
 * `UID FETCH 1:*` costs the client almost nothing.
 *
 * Owns: `ImapConn.connect` (waits for the greeting), `cmd` (resolves on the tagged reply, with
 * the number of untagged responses seen meanwhile and, when asked, their text without literal
 * bodies), `append` (LITERAL+), `close`.
 */
import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../peers.js';

export interface ImapReply {
  status: 'OK' | 'NO' | 'BAD' | 'BYE';
  /** the tagged line */
  line: string;
  /** number of untagged responses received while this command was the oldest in flight */
  untagged: number;
  /** untagged lines (literal bodies left out) when the command asked to collect them */
  lines: string[];
}

interface Pending {
  tag: string;
  collect: boolean;
  untagged: number;
  lines: string[];
  resolve: (r: ImapReply) => void;
  reject: (e: Error) => void;
}

const CRLF = 0x0a;

export class ImapConn {
  private buf: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  /** text of the response being assembled (only kept when collecting) */
  private partial = '';
  private pending: Pending[] = [];
  private seq = 0;
  private greetingWaiter: ((line: string) => void) | null = null;
  private closedError: Error | null = null;
  /** bytes received so far */
  bytesIn = 0;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('connection closed by server')));
  }

  /** `localAddress` (another 127.x address) keeps per-user-and-IP connection limits apart. */
  static connect(ep: Endpoint, localAddress?: string, timeoutMs = 30_000): Promise<ImapConn> {
    return new Promise((resolve, reject) => {
      const sock = connect({ port: ep.port, host: ep.host, localAddress });
      const c = new ImapConn(sock);
      const t = setTimeout(() => {
        sock.destroy();
        reject(new Error('no IMAP greeting'));
      }, timeoutMs);
      c.greetingWaiter = (line) => {
        clearTimeout(t);
        if (/^\* (OK|PREAUTH)/i.test(line)) resolve(c);
        else reject(new Error(`greeting: ${line}`));
      };
      sock.once('error', (e) => (clearTimeout(t), reject(e)));
    });
  }

  private fail(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.splice(0)) p.reject(e);
    if (this.greetingWaiter) this.greetingWaiter(`(closed: ${e.message})`);
  }

  private onData(d: Buffer): void {
    this.bytesIn += d.length;
    if (this.literalLeft > 0) {
      const n = Math.min(this.literalLeft, d.length);
      this.literalLeft -= n;
      d = d.subarray(n);
      if (this.literalLeft > 0 || d.length === 0) return;
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let off = 0;
    for (;;) {
      const nl = this.buf.indexOf(CRLF, off);
      if (nl < 0) break;
      const text = this.buf.toString('latin1', off, nl > off && this.buf[nl - 1] === 0x0d ? nl - 1 : nl);
      off = nl + 1;
      const lit = /\{(\d+)\}$/.exec(text);
      if (lit) {
        // a literal follows: keep the text before it, skip its bytes
        if (this.collecting()) this.partial += text.slice(0, lit.index) + '{…}';
        const size = Number(lit[1]);
        const have = this.buf.length - off;
        if (have >= size) {
          off += size;
          continue;
        }
        this.literalLeft = size - have;
        off = this.buf.length;
        break;
      }
      const whole = this.partial + text;
      this.partial = '';
      this.onLine(whole);
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  private collecting(): boolean {
    return this.pending[0]?.collect ?? false;
  }

  private onLine(line: string): void {
    if (this.greetingWaiter) {
      const w = this.greetingWaiter;
      this.greetingWaiter = null;
      w(line);
      return;
    }
    if (line.startsWith('* ') || line.startsWith('+')) {
      const p = this.pending[0];
      if (p && line.startsWith('* ')) {
        p.untagged++;
        if (p.collect) p.lines.push(line);
      }
      return;
    }
    const sp = line.indexOf(' ');
    const tag = line.slice(0, sp);
    const i = this.pending.findIndex((p) => p.tag === tag);
    if (i < 0) return;
    const [p] = this.pending.splice(i, 1);
    const status = line.slice(sp + 1, line.indexOf(' ', sp + 1) >>> 0).toUpperCase() as ImapReply['status'];
    p!.resolve({ status, line, untagged: p!.untagged, lines: p!.lines });
  }

  /** Send one command (without tag and CRLF); resolves on its tagged reply. */
  cmd(text: string, collect = false): Promise<ImapReply> {
    return this.send([Buffer.from(text, 'latin1')], collect);
  }

  /** APPEND with a non-synchronising literal (LITERAL+, advertised by all three servers). */
  append(mailbox: string, msg: Buffer, flags = ''): Promise<ImapReply> {
    const head = `APPEND ${mailbox}${flags ? ` (${flags})` : ''} {${msg.length}+}\r\n`;
    return this.send([Buffer.from(head, 'latin1'), msg]);
  }

  private send(parts: Buffer[], collect = false): Promise<ImapReply> {
    if (this.closedError) return Promise.reject(this.closedError);
    const tag = `t${++this.seq}`;
    return new Promise((resolve, reject) => {
      this.pending.push({ tag, collect, untagged: 0, lines: [], resolve, reject });
      this.sock.cork();
      this.sock.write(`${tag} `);
      for (const p of parts) this.sock.write(p);
      this.sock.write('\r\n');
      this.sock.uncork();
    });
  }

  /** Like cmd, but a NO/BAD reply becomes an error naming the command and the reply. */
  async ok(text: string, collect = false): Promise<ImapReply> {
    const r = await this.cmd(text, collect);
    if (r.status !== 'OK') throw new Error(`${text.slice(0, 60)} -> ${r.line.slice(0, 200)}`);
    return r;
  }

  async login(user: string, pass: string): Promise<void> {
    await this.ok(`LOGIN ${user} ${pass}`);
  }

  /** LOGOUT and wait for the server to close; a plain destroy if that fails. */
  async close(): Promise<void> {
    if (!this.closedError) {
      const gone = new Promise((r) => this.sock.once('close', r));
      await this.cmd('LOGOUT').catch(() => undefined);
      this.sock.end();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 2000))]);
    }
    this.sock.destroy();
  }

  destroy(): void {
    this.closedError ??= new Error('destroyed');
    this.sock.destroy();
  }
}
