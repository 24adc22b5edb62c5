/**
 * End to end: stopping the suite while clients are connected. An ImapFlow client sits in IDLE,
 * a POP3 session holds the maildrop, an LMTP session is half way through a transaction; SIGTERM
 * to cyr_master must end every process quickly (well inside master's 10 s grace) and close the
 * clients' connections. The time is reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import { startSuite } from './lib/suite.js';
import { descendants, alive } from './lib/proc.js';

/** a raw connection that records everything received and when it closed */
function raw(port: number): Promise<{ sock: Socket; data: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.once('connect', () => resolve({ sock, data: () => data, closed }));
    sock.once('error', reject);
  });
}
const until = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
};

test('SIGTERM with IDLE, POP3 and LMTP sessions open: everything ends within 5 s', async (t) => {
  const suite = await startSuite({ services: ['imap', 'pop3', 'lmtp'] });
  await suite.addUser('stay', 'stay-pw');
  const idle = new ImapFlow({
    host: '127.0.0.1',
    port: suite.ports.imap!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'stay', pass: 'stay-pw' },
    logger: false,
    autoIdleDelay: 100,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  idle.on('error', () => {});
  const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
  let tree: ReturnType<typeof descendants> = [];
  let ms = 0;
  try {
    await idle.connect();
    await idle.mailboxOpen('INBOX');
    await until(() => (idle as unknown as { idling: boolean }).idling);

    const pop = await raw(suite.ports.pop3!);
    await until(() => pop.data().includes('+OK'));
    pop.sock.write('USER stay\r\nPASS stay-pw\r\n');
    await until(() => (pop.data().match(/\+OK/g) ?? []).length >= 3);

    const lmtp = await raw(suite.ports.lmtp!);
    await until(() => lmtp.data().startsWith('220'));
    lmtp.sock.write(
      'LHLO e2e\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<stay>\r\nDATA\r\nSubject: half\r\n\r\nno end yet\r\n',
    );
    await until(() => /\r\n354 /.test(lmtp.data()));

    tree = descendants(suite.pid);
    const t0 = Date.now();
    await suite.stop();
    ms = Date.now() - t0;
    t.diagnostic(`cyr_master stop with IDLE + POP3 + LMTP DATA sessions open: ${ms} ms`);
    await Promise.all([idleClosed, pop.closed, lmtp.closed]);
  } finally {
    if (tree.length === 0) await suite.stop();
  }
  assert.deepEqual(
    tree.filter(alive).map((p) => p.pid),
    [],
  );
  assert.ok(ms < 5000, `stop took ${ms} ms`);
});

for (const compress of [false, true]) {
  test(`SIGTERM: an IDLE ImapFlow client ${compress ? 'with' : 'without'} COMPRESS=DEFLATE gets "* BYE" before the close`, async () => {
    const suite = await startSuite({ services: ['imap'] });
    const fromServer: string[] = [];
    const flow = new ImapFlow({
      host: '127.0.0.1',
      port: suite.ports.imap!,
      secure: false,
      doSTARTTLS: false,
      disableCompression: !compress,
      auth: { user: 'byeuser', pass: 'bye-pw' },
      autoIdleDelay: 100,
      logger: {
        debug: (o: { src?: string; msg?: string }) => {
          if (o.src === 's' && o.msg) fromServer.push(o.msg);
        },
        info: () => {},
        warn: () => {},
        error: () => {},
      },
    } as ConstructorParameters<typeof ImapFlow>[0]);
    flow.on('error', () => {});
    const closed = new Promise<void>((r) => flow.once('close', () => r()));
    try {
      await suite.addUser('byeuser', 'bye-pw');
      await flow.connect();
      await flow.mailboxOpen('INBOX');
      await until(() => (flow as unknown as { idling: boolean }).idling);
      assert.equal(
        fromServer.some((l) => /OK DEFLATE active/.test(l)),
        compress,
        'compression as configured',
      );
    } finally {
      await suite.stop();
    }
    await closed;
    assert.match(
      fromServer.at(-1) ?? '',
      /^\* BYE/,
      `last lines from the server: ${fromServer.slice(-3).join(' | ')}`,
    );
  });
}
