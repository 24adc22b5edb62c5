/**
 * End to end: reloading the running suite. cyrus.conf gains a pop3 service and cyr_master gets
 * SIGHUP: the new service answers curl's pop3://, while an ImapFlow client that was IDLE through
 * the reload keeps its session (it still gets woken by a delivery afterwards).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { ImapFlow } from 'imapflow';
import { freePort, startSuite } from './lib/suite.js';
import { run } from './lib/run.js';
import { lmtpDeliver, message } from './lib/clients.js';

test('SIGHUP adds a service from cyrus.conf; an IDLE IMAP session survives the reload', async () => {
  const suite = await startSuite({ services: ['imap', 'lmtpunix'] });
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: suite.ports.imap!,
    secure: false,
    doSTARTTLS: false,
    auth: { user: 'hup', pass: 'hup-pw' },
    logger: false,
    autoIdleDelay: 100,
  } as ConstructorParameters<typeof ImapFlow>[0]);
  flow.on('error', () => {});
  try {
    await suite.addUser('hup', 'hup-pw');
    await flow.connect();
    await flow.mailboxOpen('INBOX');

    const pop3 = await freePort();
    const conf = readFileSync(suite.cyrusConf, 'utf8');
    writeFileSync(
      suite.cyrusConf,
      conf.replace(/\n}\s*$/, `\n  pop3 cmd="pop3d -C ${suite.conf}" listen="127.0.0.1:${pop3}"\n}\n`),
    );
    const logFrom = suite.log.length;
    process.kill(suite.pid, 'SIGHUP');
    const t0 = Date.now();
    while (!suite.log.slice(logFrom).some((l) => /service pop3: bound/.test(l))) {
      if (Date.now() - t0 > 10_000)
        throw new Error(`pop3 not bound after SIGHUP:\n${suite.log.slice(logFrom).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }

    const woke = new Promise<number>((resolve) =>
      flow.on('exists', (d: { count: number }) => resolve(d.count)),
    );
    await lmtpDeliver(suite.lmtpSocket, 'hup', message('after reload', 'still connected'));
    let timer: NodeJS.Timeout | undefined;
    const count = await Promise.race([
      woke,
      new Promise<never>(
        (_, rej) =>
          (timer = setTimeout(() => rej(new Error('the IDLE session got no EXISTS after the reload')), 5000)),
      ),
    ]);
    clearTimeout(timer);
    assert.equal(count, 1);

    const r = await run('curl', [
      '-sS',
      '--max-time',
      '20',
      '-u',
      'hup:hup-pw',
      `pop3://127.0.0.1:${pop3}/1`,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Subject: after reload/);
  } finally {
    await flow.logout().catch(() => {});
    await suite.stop();
  }
});
