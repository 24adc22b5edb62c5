/**
 * smmapd end to end (issue #7): socketmap lookups over TCP and a unix socket against a real
 * store; malformed netstrings close the connection with PERM.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { serveForTest } from '../../services/harness.js';
import { openStore } from '../../store/index.js';
import smmapd from './service.js';
import { LineClient, makeSite, trackClients } from '../lmtp/test-kit.js';
import { netstring } from './netstring.js';

const admin = { userid: 'cyrus', isAdmin: true, groups: [] };

async function readNetstrings(c: LineClient, n: number): Promise<string[]> {
  let buf = '';
  const out: string[] = [];
  c.sock.removeAllListeners('data');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout; got ${JSON.stringify(buf)}`)), 5000);
    const take = (): void => {
      for (;;) {
        const m = /^(\d+):/.exec(buf);
        if (!m) break;
        const len = Number(m[1]);
        const start = m[0].length;
        if (buf.length < start + len + 1) break;
        out.push(buf.slice(start, start + len));
        buf = buf.slice(start + len + 1);
      }
      if (out.length >= n) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    c.sock.on('data', (d: string) => {
      buf += d;
      take();
    });
  });
}

test('socketmap answers OK / NOTFOUND / TEMP (over quota) / PERM, TCP and unix', async () => {
  for (const perm of [false, true]) {
    const site = makeSite({ lmtp_over_quota_perm_failure: perm });
    const store = openStore(site.conf('smmap'));
    store.ensureInbox('fred');
    store.ensureInbox('full');
    store.setQuota(admin, 'user.full', { message: 0 });
    await store.append(admin, 'user.full', Buffer.from('Subject: x\r\n\r\nx\r\n'), { ignoreQuota: true });
    const clients = trackClients();
    const tcp = await serveForTest(smmapd, { config: site.conf('smmap') });
    const unix = await serveForTest(smmapd, {
      config: site.conf('smmap'),
      path: join(site.dir, 'smmap.sock'),
    });
    try {
      for (const target of [{ port: tcp.port }, { path: unix.path! }]) {
        const c = await LineClient.open(target);
        const replies = readNetstrings(c, 5);
        c.send(
          Buffer.concat(
            ['cyrus fred', 'cyrus Fred+anything@example.org', 'cyrus ghost', 'cyrus full', 'cyrus "a b"'].map(
              netstring,
            ),
          ),
        );
        assert.deepEqual(await replies, [
          'OK fred',
          'OK Fred+anything@example.org',
          'NOTFOUND Mailbox does not exist',
          perm ? 'PERM Over quota' : 'TEMP Over quota',
          'PERM Invalid mailbox name',
        ]);
        await c.close();
      }
      const bad = await LineClient.open({ port: tcp.port });
      const r = readNetstrings(bad, 1);
      bad.send('5:cyrus fred,');
      assert.match((await r)[0]!, /^PERM Malformed request/);
      await new Promise<void>((res) => (bad.closed ? res() : bad.sock.once('close', () => res())));
      const big = await LineClient.open({ port: tcp.port });
      const r2 = readNetstrings(big, 1);
      big.send('99999:cyrus ');
      assert.match((await r2)[0]!, /^PERM Malformed request: length/);
      await big.close();
    } finally {
      clients.destroyAll();
      await tcp.stop();
      await unix.stop();
      store.close();
      site.cleanup();
    }
  }
});
