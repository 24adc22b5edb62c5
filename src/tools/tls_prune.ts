/**
 * cyr_tls_prune: remove expired entries from the TLS session cache (tls_sessions.db), as
 * Cyrus's tls_prune does from EVENTS (and START). An entry is expired when older than
 * tls_session_timeout; with a timeout of 0 (no cache) everything goes.
 *
 *   cyr_tls_prune [-C imapd.conf]
 *
 * Logs `tls_prune: purged N out of M entries` like Cyrus. Exit 0, 64 usage, 78 configuration,
 * 75 (temporary failure) when the database cannot be opened.
 * Imports: src/config, src/net/tls-sessions, src/log.
 */
import { EX_TEMPFAIL, EX_USAGE, loadConfigOrExitCode } from '../config/tool.js';
import { createLogger, type Logger } from '../log/logger.js';
import { openSessionDb, pruneSessions, sessionTimeout } from '../net/tls-sessions.js';

const USAGE = 'usage: cyr_tls_prune [-C imapd.conf]\n';

export async function main(
  argv: string[],
  io: { stdout: (t: string) => void; stderr: (t: string) => void; log?: Logger } = {
    stdout: (t) => void process.stdout.write(t),
    stderr: (t) => void process.stderr.write(t),
  },
): Promise<number> {
  if (argv.includes('-h')) {
    io.stdout(USAGE);
    return 0;
  }
  const loaded = loadConfigOrExitCode(argv, 'cyr_tls_prune', io.stderr);
  if (typeof loaded === 'number') return loaded;
  if (loaded.rest.length > 0) {
    io.stderr(`cyr_tls_prune: unexpected argument ${loaded.rest[0]}\n${USAGE}`);
    return EX_USAGE;
  }
  const log = io.log ?? createLogger('tls_prune');
  let db;
  try {
    db = openSessionDb(loaded.conf);
  } catch (e) {
    io.stderr(`cyr_tls_prune: cannot open the TLS session database: ${(e as Error).message}\n`);
    return EX_TEMPFAIL;
  }
  try {
    let total = 0;
    db.foreach('', () => {
      total++;
    });
    const purged = pruneSessions(db, sessionTimeout(loaded.conf));
    log.notice(`tls_prune: purged ${purged} out of ${total} entries`);
    return 0;
  } finally {
    db.close();
  }
}
