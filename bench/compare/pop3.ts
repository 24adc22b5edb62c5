/**
 * `compare pop3 [--count N] [--window W]`: POP3 retrieval of issue #7 for ours, Dovecot and
 * Cyrus. bench1's INBOX gets N generated messages (default 10,000) over LMTP; then one POP3
 * session logs in (USER/PASS), STATs, and RETRs every message, W commands in flight (default
 * 16, RFC 2449 PIPELINING); figures: login+STAT seconds, messages/s and MB/s of the RETRs.
 */
import type { PeerServer } from '../peers.js';
import { Pop3Conn } from './pop3-client.js';
import { Results } from './results.js';
import { forEachServer, loadMailbox, numArg } from './servers.js';

export async function pop3Compare(args: string[]): Promise<Results> {
  const count = numArg(args, '--count', 10_000);
  const window = Math.max(1, numArg(args, '--window', 16));
  const results = new Results(
    `POP3: RETR of all ${count} messages (1-20 KB, mixed MIME) of one mailbox, ${window} in flight`,
  );
  await forEachServer(args, { users: 2 }, results, async (srv: PeerServer) => {
    const u = srv.users[0]!;
    const loaded = await results.measure(
      `load: LMTP delivery of ${count} msgs (4 conns)`,
      'msg/s',
      'higher',
      srv.name,
      () => loadMailbox(srv, u.user, count, 3, 'pop'),
    );
    if (loaded === null) return;
    let c: Pop3Conn | null = null;
    let n = 0;
    let octets = 0;
    await results.measure('login + STAT', 's', 'lower', srv.name, async () => {
      const t0 = performance.now();
      c = await Pop3Conn.connect(srv.pop3);
      await c.login(u.user, u.pass);
      const stat = await c.cmd('STAT');
      n = Number(stat.split(' ')[1]);
      octets = Number(stat.split(' ')[2]);
      if (n !== count) throw new Error(`STAT says ${stat}, want ${count} messages`);
      return (performance.now() - t0) / 1000;
    });
    if (!c) return;
    const conn: Pop3Conn = c;
    let bytes = 0;
    let secs = 0;
    const retr = async (): Promise<void> => {
      const t0 = performance.now();
      let next = 1;
      const lane = async (): Promise<void> => {
        while (next <= n) {
          const b = await conn.multi(`RETR ${next++}`);
          bytes += b;
        }
      };
      await Promise.all(Array.from({ length: Math.min(window, n) }, lane));
      secs = (performance.now() - t0) / 1000;
    };
    const ok = await results.measure(
      'RETR all',
      'msg/s',
      'higher',
      srv.name,
      async () => (await retr(), n / secs),
    );
    if (ok !== null) {
      results.set('RETR all, data rate', 'MB/s', 'higher', srv.name, bytes / secs / 1e6);
      if (Math.abs(bytes - octets) > octets * 0.02)
        results.note(`${srv.name}: RETR returned ${bytes} bytes, STAT announced ${octets}`);
    }
    await conn.quit();
  });
  return results;
}
