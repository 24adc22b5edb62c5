/**
 * A minimal POP3 client (RFC 1939) for timing retrieval: commands pipelined (RFC 2449
 * PIPELINING) with a bounded window, multi-line responses scanned for the terminating
 * `CRLF.CRLF` without keeping their bodies.
 *
 * Owns: `Pop3Conn.connect` (greeting), `cmd` (single-line), `multi` (multi-line: status line
 * plus body byte count), `login` (USER/PASS), `quit`.
 */
import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../peers.js';

interface Pending {
  multi: boolean;
  resolve: (r: { line: string; bytes: number }) => void;
  reject: (e: Error) => void;
}

const END = Buffer.from('\r\n.\r\n');

export class Pop3Conn {
  private buf: Buffer = Buffer.alloc(0);
  private pending: Pending[] = [];
  /** inside a multi-line body: its status line and bytes dropped so far */
  private body: { line: string; bytes: number } | null = null;
  private error: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => this.onData(d));
    const fail = (e: Error): void => {
      this.error ??= e;
      for (const p of this.pending.splice(0)) p.reject(this.error);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('POP3 connection closed by server')));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let off = 0;
    while (off < this.buf.length && this.pending.length) {
      if (this.body) {
        // search from 2 bytes before off: the status line's CRLF may start the terminator
        const at = this.buf.indexOf(END, Math.max(0, off - 2));
        if (at < 0) {
          const keep = Math.max(off, this.buf.length - 4);
          this.body.bytes += keep - off;
          off = keep;
          break;
        }
        this.body.bytes += Math.max(0, at + 2 - off);
        off = at + END.length;
        const done = this.body;
        this.body = null;
        this.pending.shift()!.resolve(done);
        continue;
      }
      const nl = this.buf.indexOf(0x0a, off);
      if (nl < 0) break;
      const line = this.buf.toString('latin1', off, nl).replace(/\r$/, '');
      const p = this.pending[0]!;
      if (p.multi && line.startsWith('+OK')) {
        // keep the CRLF in view so an empty body (".\r\n" right away) is found
        const cr = this.buf[nl - 1] === 0x0d;
        off = cr ? nl - 1 : nl + 1;
        this.body = { line, bytes: cr ? -2 : 0 };
        continue;
      }
      off = nl + 1;
      this.pending.shift()!.resolve({ line, bytes: 0 });
    }
    this.buf = off >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  private expect(multi: boolean): Promise<{ line: string; bytes: number }> {
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.pending.push({ multi, resolve, reject }));
  }

  static async connect(ep: Endpoint): Promise<Pop3Conn> {
    const sock = connect(ep.port, ep.host);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    const c = new Pop3Conn(sock);
    const g = await c.expect(false);
    if (!g.line.startsWith('+OK')) throw new Error(`POP3 greeting: ${g.line}`);
    return c;
  }

  async cmd(text: string): Promise<string> {
    const r = this.expect(false);
    this.sock.write(`${text}\r\n`);
    const { line } = await r;
    if (!line.startsWith('+OK')) throw new Error(`${text.split(' ')[0]} -> ${line}`);
    return line;
  }

  /** A multi-line command (RETR, LIST, UIDL, TOP): resolves with the body's size in bytes. */
  async multi(text: string): Promise<number> {
    const r = this.expect(true);
    this.sock.write(`${text}\r\n`);
    const { line, bytes } = await r;
    if (!line.startsWith('+OK')) throw new Error(`${text} -> ${line}`);
    return bytes;
  }

  async login(user: string, pass: string): Promise<void> {
    await this.cmd(`USER ${user}`);
    await this.cmd(`PASS ${pass}`);
  }

  async quit(): Promise<void> {
    await this.cmd('QUIT').catch(() => undefined);
    this.sock.destroy();
  }
}
