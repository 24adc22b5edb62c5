/**
 * `compare lmtp [--count N] [--big M]`: LMTP delivery rates of issue #7 for ours, Dovecot and
 * Cyrus: N messages of about 4 KB (default 10,000) and M of about 1 MB (default 1,000), each
 * at concurrency 1 and 8, all to one user and spread over 100 users; messages per second.
 *
 * Every user's INBOX is created by one delivery before the timed runs. Bodies come from a pool of 16 generated messages so the client spends no time making
 * them; each delivery gets its own Message-ID, so duplicate suppression never drops one.
 */
import type { PeerServer } from '../peers.js';
import { deliverAll } from './lmtp-client.js';
import { makeMessage } from './messages.js';
import { Results } from './results.js';
import { createInboxes, forEachServer, numArg } from './servers.js';

const USERS = 100;

function pool(size: number, seed: number): Buffer[] {
  return Array.from({ length: 16 }, (_, i) => makeMessage(i, { seed, size, noMessageId: true }));
}

export async function lmtpCompare(args: string[]): Promise<Results> {
  const count = numArg(args, '--count', 10_000);
  const big = numArg(args, '--big', 1000);
  const results = new Results(`LMTP: ${count} x 4 KB and ${big} x 1 MB messages, fsync on for all`);
  const small = pool(4 * 1024, 11);
  const large = pool(1024 * 1024, 12);
  let run = 0;
  await forEachServer(args, { users: USERS }, results, async (srv: PeerServer) => {
    // every INBOX exists before the timed runs: they measure delivery, not mailbox creation
    await createInboxes(srv, 'setup');
    for (const [label, n, bodies] of [
      ['4 KB', count, small],
      ['1 MB', big, large],
    ] as const) {
      if (n === 0) continue;
      for (const conc of [1, 8])
        for (const spread of [false, true]) {
          const tag = `r${++run}`;
          const name = `${label} x${n}, concurrency ${conc}, ${spread ? `${USERS} users` : '1 user'}`;
          await results.measure(name, 'msg/s', 'higher', srv.name, async () => {
            const secs = await deliverAll(
              srv.lmtp,
              n,
              conc,
              (i) => srv.users[spread ? i % USERS : 0]!.user,
              (i) =>
                Buffer.concat([
                  Buffer.from(`Message-ID: <${tag}.${i}@bench.example>\r\n`),
                  bodies[i % bodies.length]!,
                ]),
            );
            return n / secs;
          });
        }
    }
  });
  return results;
}
