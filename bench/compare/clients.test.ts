/**
 * Tests of the benchmark's own clients and message generator (the figures are only as good
 * as these): IMAP literals skipped across any chunking, POP3 bodies ended at the right
 * `CRLF.CRLF` whatever the chunking, LMTP dot-stuffing, deterministic well-formed messages.
 * Run: node --test dist/bench/compare/clients.test.js
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { ImapConn } from './imap-client.js';
import { dotStuff } from './lmtp-client.js';
import { makeMessage, rng } from './messages.js';
import { Pop3Conn } from './pop3-client.js';

/** A server that answers each line the client sends with `reply(line)`, in random small pieces. */
async function fakeServer(
  greeting: string,
  reply: (line: string) => string,
  seed: number,
): Promise<{ srv: Server; port: number }> {
  const r = rng(seed);
  const srv = createServer((s: Socket) => {
    const send = (text: string): void => {
      const b = Buffer.from(text, 'latin1');
      for (let i = 0; i < b.length;) {
        const n = 1 + Math.floor(r() * 7);
        s.write(b.subarray(i, i + n));
        i += n;
      }
    };
    send(greeting);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i: number;
      while ((i = buf.indexOf('\r\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        send(reply(line));
      }
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
  const a = srv.address();
  return { srv, port: typeof a === 'object' && a ? a.port : 0 };
}

test('IMAP: literals are skipped by count, untagged responses counted, tags matched', async () => {
  for (const seed of [1, 2, 3]) {
    const { srv, port } = await fakeServer(
      '* OK ready\r\n',
      (line) => {
        const [tag, cmd] = line.split(' ');
        if (cmd === 'FETCH') {
          // the literal holds a CRLF, a fake tag line and a brace: none may confuse the client
          const lit = `${tag} OK fake\r\nx{3}\r\n`;
          return `* 1 FETCH (BODY[] {${lit.length}}\r\n${lit})\r\n* 2 FETCH (FLAGS (\\Seen))\r\n${tag} OK done\r\n`;
        }
        if (cmd === 'SEARCH') return `* SEARCH 2 4\r\n${tag} NO nope\r\n`;
        return `${tag} OK\r\n`;
      },
      seed,
    );
    const c = await ImapConn.connect({ host: '127.0.0.1', port });
    const [f, s] = await Promise.all([c.cmd('FETCH 1:2 BODY[]', true), c.cmd('SEARCH ALL', true)]);
    assert.equal(f.status, 'OK');
    assert.equal(f.line, `t1 OK done`);
    assert.equal(f.untagged, 2);
    assert.equal(f.lines[0], '* 1 FETCH (BODY[] {…})');
    assert.equal(s.status, 'NO');
    assert.deepEqual(s.lines, ['* SEARCH 2 4']);
    c.destroy();
    await new Promise((r) => srv.close(r));
  }
});

test('POP3: multi-line bodies end at CRLF.CRLF (empty bodies, stuffed dots), bytes counted', async () => {
  const bodies = ['', 'hello\r\n', '..stuffed\r\nline\r\n', 'a\r\n\r\nb\r\n'];
  for (const seed of [4, 5, 6]) {
    const { srv, port } = await fakeServer(
      '+OK pop\r\n',
      (line) => {
        const [cmd, arg] = line.split(' ');
        if (cmd === 'RETR') return `+OK message follows\r\n${bodies[Number(arg)]}.\r\n`;
        if (cmd === 'DELE') return '-ERR no such message\r\n';
        return '+OK\r\n';
      },
      seed,
    );
    const c = await Pop3Conn.connect({ host: '127.0.0.1', port });
    await c.login('u', 'p');
    const got = await Promise.all(bodies.map((_, i) => c.multi(`RETR ${i}`)));
    assert.deepEqual(
      got,
      bodies.map((b) => b.length),
    );
    await assert.rejects(c.cmd('DELE 9'), /no such message/);
    await c.quit();
    await new Promise((r) => srv.close(r));
  }
});

test('LMTP: dot-stuffing and the final dot', () => {
  assert.equal(dotStuff(Buffer.from('.a\r\nb\r\n.\r\n')).toString(), '..a\r\nb\r\n..\r\n.\r\n');
  assert.equal(dotStuff(Buffer.from('no newline')).toString(), 'no newline\r\n.\r\n');
});

test('messages: deterministic, CRLF only, sized, no dot lines, unique Message-IDs', () => {
  const ids = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const m = makeMessage(i, { seed: 3 });
    assert.deepEqual(m, makeMessage(i, { seed: 3 }));
    const s = m.toString('latin1');
    assert.equal(/(^|[^\r])\n/.test(s), false, `bare LF in message ${i}`);
    assert.equal(/\r\n\./.test(s), false, `dot line in message ${i}`);
    assert.ok(m.length > 900 && m.length < 22_000, `message ${i} is ${m.length} bytes`);
    const id = /^Message-ID: (.*)$/m.exec(s)![1]!;
    ids.add(id);
  }
  assert.equal(ids.size, 60);
  const big = makeMessage(0, { seed: 1, size: 1024 * 1024 });
  assert.ok(Math.abs(big.length - 1024 * 1024) < 20_000);
  assert.notDeepEqual(makeMessage(1, { seed: 3 }), makeMessage(1, { seed: 4 }));
});
