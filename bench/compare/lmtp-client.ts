/**
 * A minimal LMTP client (RFC 2033) for loading mailboxes and timing delivery: LHLO once, then
 * per message MAIL, RCPT(s) and DATA pipelined in one write, the dot-stuffed body, and one
 * reply per recipient.
 *
 * Owns: `LmtpConn.connect`, `deliver(from, rcpts, msg)` (resolves with the per-recipient
 * replies; rejects when MAIL/RCPT/DATA are refused), `quit`, and `deliverAll` (a list of
 * messages over `concurrency` connections).
 */
import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../peers.js';

type Waiter = { resolve: (reply: string) => void; reject: (e: Error) => void };

/** Dot-stuffs a CRLF message and appends the terminating `.` line. */
export function dotStuff(msg: Buffer): Buffer {
  const parts: Buffer[] = [];
  let start = 0;
  if (msg[0] === 0x2e) parts.push(Buffer.from('.'));
  for (let i = msg.indexOf('\n.'); i >= 0; i = msg.indexOf('\n.', i + 1)) {
    parts.push(msg.subarray(start, i + 1), Buffer.from('.'));
    start = i + 1;
  }
  parts.push(msg.subarray(start));
  const ends = msg.length >= 2 && msg[msg.length - 2] === 0x0d && msg[msg.length - 1] === 0x0a;
  parts.push(Buffer.from(ends ? '.\r\n' : '\r\n.\r\n'));
  return Buffer.concat(parts);
}

export class LmtpConn {
  private buf = '';
  private lines: string[] = [];
  private waiters: Waiter[] = [];
  private error: Error | null = null;

  private constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i).replace(/\r$/, '');
        this.buf = this.buf.slice(i + 1);
        this.lines.push(line);
        // a reply ends at a line with a space (or nothing) after the code
        if (!/^\d{3}-/.test(line)) {
          const reply = this.lines.join('\n');
          this.lines = [];
          this.waiters.shift()?.resolve(reply);
        }
      }
    });
    const fail = (e: Error): void => {
      this.error ??= e;
      for (const w of this.waiters.splice(0)) w.reject(this.error);
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('LMTP connection closed by server')));
  }

  private reply(): Promise<string> {
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  static async connect(ep: Endpoint): Promise<LmtpConn> {
    const sock = connect(ep.port, ep.host);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    const c = new LmtpConn(sock);
    const greet = await c.reply();
    if (!greet.startsWith('220')) throw new Error(`LMTP greeting: ${greet}`);
    sock.write('LHLO bench.example\r\n');
    const lhlo = await c.reply();
    if (!lhlo.startsWith('250')) throw new Error(`LHLO -> ${lhlo}`);
    return c;
  }

  /** Deliver one message; returns the reply for each recipient after DATA. */
  async deliver(from: string, rcpts: string[], msg: Buffer): Promise<string[]> {
    const expect = [this.reply(), ...rcpts.map(() => this.reply()), this.reply()];
    this.sock.cork();
    this.sock.write(`MAIL FROM:<${from}>\r\n`);
    for (const r of rcpts) this.sock.write(`RCPT TO:<${r}>\r\n`);
    this.sock.write('DATA\r\n');
    this.sock.uncork();
    const [mail, ...rest] = await Promise.all(expect);
    const data = rest.pop()!;
    const bad = [mail!, ...rest].find((r) => !r.startsWith('250'));
    if (bad || !data.startsWith('354')) {
      if (data.startsWith('354')) {
        // the server wants data although a recipient failed: send an empty message to close it
        this.sock.write('.\r\n');
        await this.reply();
      }
      throw new Error(`MAIL/RCPT/DATA refused: ${bad ?? data}`);
    }
    const finals = rcpts.map(() => this.reply());
    this.sock.write(dotStuff(msg));
    const out = await Promise.all(finals);
    const failed = out.find((r) => !r.startsWith('250'));
    if (failed) throw new Error(`after DATA: ${failed}`);
    return out;
  }

  async quit(): Promise<void> {
    if (!this.error) {
      const r = this.reply().catch(() => '');
      this.sock.write('QUIT\r\n');
      await Promise.race([r, new Promise((res) => setTimeout(res, 2000))]);
    }
    this.sock.destroy();
  }
}

/**
 * Deliver messages 0..count-1 (made by `make(i)`, sent to `rcpt(i)`) over `concurrency`
 * connections; returns the elapsed seconds. Stops at the first failure.
 */
export async function deliverAll(
  ep: Endpoint,
  count: number,
  concurrency: number,
  rcpt: (i: number) => string,
  make: (i: number) => Buffer,
): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    const c = await LmtpConn.connect(ep);
    try {
      while (next < count) {
        const i = next++;
        await c.deliver('sender@bench.example', [rcpt(i)], make(i));
      }
    } catch (e) {
      next = count;
      throw e;
    } finally {
      await c.quit();
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, worker));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    throw (failed as PromiseRejectedResult).reason;
  }
  return (performance.now() - t0) / 1000;
}
