/**
 * The three servers of a comparison, started one after another with the same users, and the
 * shared steps every workload needs: argument parsing and loading a mailbox over LMTP.
 *
 * Owns: `forEachServer` (ensurePeers, start, run, stop — a peer that is unavailable or fails
 * to start is skipped with the reason in the table's notes), `numArg`, `loadMailbox`.
 */
import {
  ensurePeers,
  removeData,
  startCyrus,
  startDovecot,
  type PeerOptions,
  type PeerServer,
} from '../peers.js';
import { startOurs } from '../ours.js';
import { deliverAll } from './lmtp-client.js';
import { makeMessage } from './messages.js';
import type { Results } from './results.js';

export function numArg(args: string[], name: string, def: number): number {
  const i = args.indexOf(name);
  if (i < 0) return def;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v < 0)
    throw new Error(`${name} wants a number, got ${args[i + 1] ?? 'nothing'}`);
  return v;
}

/** `--only ours,dovecot` limits the servers (for debugging a single one). */
function only(args: string[]): string[] | null {
  const i = args.indexOf('--only');
  return i >= 0 && args[i + 1] ? args[i + 1]!.split(',') : null;
}

export async function forEachServer(
  args: string[],
  opts: PeerOptions,
  results: Results,
  run: (s: PeerServer) => Promise<void>,
): Promise<void> {
  const want = only(args);
  const peers = ensurePeers();
  const starters: [string, string | null, (o: PeerOptions) => Promise<PeerServer>][] = [
    ['ours', null, startOurs],
    ['dovecot', peers.dovecot, startDovecot],
    ['cyrus', peers.cyrus, startCyrus],
  ];
  // every server's data stays until the last one ran (see removeData: deleting one server's
  // files slows the next one's file creation on this file system)
  const leftovers: string[] = [];
  try {
    await runEach();
  } finally {
    for (const dir of leftovers) removeData(dir);
  }

  async function runEach(): Promise<void> {
    for (const [name, unavailable, start] of starters) {
      if (want && !want.includes(name)) continue;
      if (unavailable) {
        results.note(`${name} skipped: ${unavailable}`);
        console.error(`${name}: skipped (${unavailable})`);
        continue;
      }
      console.error(`${name}: starting with ${opts.users} users`);
      let srv: PeerServer;
      try {
        srv = await start(opts);
      } catch (e) {
        results.note(`${name} skipped: it did not start: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      try {
        await run(srv);
      } catch (e) {
        results.note(`${name}: run aborted: ${e instanceof Error ? e.message : String(e)}`);
        console.error(`${name}: run aborted`, e);
      } finally {
        await srv.stop({ keepData: true });
        if (process.env.BENCH_KEEP !== '1') leftovers.push(srv.dataDir);
      }
    }
  }
}

/**
 * Deliver `count` generated messages (seed, indexes 0..count-1) to `user` over LMTP with 4
 * connections; returns messages per second.
 */
export async function loadMailbox(
  srv: PeerServer,
  user: string,
  count: number,
  seed: number,
  tag: string,
): Promise<number> {
  const make = (i: number): Buffer => makeMessage(i, { seed, to: `${user}@localhost`, tag });
  // the first message alone: it creates the INBOX (Cyrus's lmtpd answers "451 4.3.0 Mailbox
  // already exists" to concurrent first deliveries that race to create it)
  const first = await deliverAll(srv.lmtp, Math.min(1, count), 1, () => user, make);
  const rest =
    count > 1
      ? await deliverAll(
          srv.lmtp,
          count - 1,
          4,
          () => user,
          (i) => make(i + 1),
        )
      : 0;
  return count / (first + rest);
}

/** Deliver one small message to each user (creating every INBOX), one at a time. */
export async function createInboxes(srv: PeerServer, tag: string): Promise<void> {
  await deliverAll(
    srv.lmtp,
    srv.users.length,
    1,
    (i) => srv.users[i]!.user,
    (i) => makeMessage(i, { seed: 5, size: 2048, tag }),
  );
}
