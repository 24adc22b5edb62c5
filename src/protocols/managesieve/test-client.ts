/**
 * A minimal ManageSieve client for tests: sends raw bytes, reads one complete response (up to
 * and including the OK/NO/BYE line, following {N} literals). Not a test file itself.
 */
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class SieveClient {
  #buf = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  closed = false;
  constructor(public sock: Socket | TLSSocket) {
    this.#attach(sock);
  }
  #attach(sock: Socket | TLSSocket): void {
    sock.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#wake?.();
    });
    sock.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
    sock.on('error', () => undefined);
  }
  static async open(port: number): Promise<SieveClient> {
    const s = connect(port, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      s.once('connect', () => res());
      s.once('error', rej);
    });
    return new SieveClient(s);
  }
  send(data: string | Buffer): void {
    this.sock.write(data);
  }
  /** read one response: lines until one starting with OK, NO or BYE (literals followed) */
  async response(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let pos = 0;
    for (;;) {
      // scan complete lines from pos
      let progressed = true;
      while (progressed) {
        progressed = false;
        const lf = this.#buf.indexOf('\r\n', pos);
        if (lf < 0) break;
        const line = this.#buf.subarray(pos, lf).toString('utf8');
        const lit = /\{(\d+)\}$/.exec(line);
        if (lit) {
          const end = lf + 2 + Number(lit[1]);
          if (this.#buf.length < end + 2) break;
          pos = end;
          progressed = true;
          if (/^(OK|NO|BYE)\b/.test(line)) {
            pos = end + 2;
            const out = this.#buf.subarray(0, pos).toString('utf8');
            this.#buf = this.#buf.subarray(pos);
            return out;
          }
          continue;
        }
        pos = lf + 2;
        progressed = true;
        if (/^(OK|NO|BYE)\b/.test(line)) {
          const out = this.#buf.subarray(0, pos).toString('utf8');
          this.#buf = this.#buf.subarray(pos);
          return out;
        }
      }
      if (this.closed) throw new Error(`connection closed; got: ${this.#buf.toString()}`);
      if (Date.now() > deadline) throw new Error(`timeout; got: ${this.#buf.toString()}`);
      await new Promise<void>((res) => {
        this.#wake = res;
        setTimeout(res, 50);
      });
      this.#wake = null;
    }
  }
  /** read one line (SASL challenges) */
  async line(timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lf = this.#buf.indexOf('\r\n');
      if (lf >= 0) {
        const l = this.#buf.subarray(0, lf).toString('utf8');
        this.#buf = this.#buf.subarray(lf + 2);
        return l;
      }
      if (this.closed || Date.now() > deadline) throw new Error(`no line; got: ${this.#buf.toString()}`);
      await new Promise<void>((res) => {
        this.#wake = res;
        setTimeout(res, 50);
      });
      this.#wake = null;
    }
  }
  async cmd(line: string | Buffer): Promise<string> {
    this.send(typeof line === 'string' ? line + '\r\n' : line);
    return this.response();
  }
  /** after "OK" to STARTTLS: wrap the socket in TLS */
  async startTls(ca: Buffer): Promise<void> {
    const t = tlsConnect({ socket: this.sock as Socket, ca, servername: 'localhost' });
    await new Promise<void>((res, rej) => {
      t.once('secureConnect', () => res());
      t.once('error', rej);
    });
    this.sock = t;
    this.#buf = Buffer.alloc(0);
    this.#attach(t);
  }
  close(): void {
    this.sock.destroy();
  }
}

export function plain(user: string, pass: string, authz = ''): string {
  return Buffer.from(`${authz}\0${user}\0${pass}`).toString('base64');
}
