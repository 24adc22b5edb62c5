import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './tls_prune.js';
import { currentTicketKey, openSessionDb } from '../net/tls-sessions.js';
import { loadImapdConf } from '../config/imapd-conf.js';
import { memoryLogger } from '../log/logger.js';

test('cyr_tls_prune removes an expired ticket key and keeps a fresh one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlsprune-'));
  try {
    const confPath = join(dir, 'imapd.conf');
    writeFileSync(confPath, `configdirectory: ${dir}\ntls_session_timeout: 60\n`);
    const conf = loadImapdConf(confPath, { service: 'tls_prune' });
    const io = { stdout: () => {}, stderr: () => {}, log: memoryLogger() };
    let db = openSessionDb(conf);
    currentTicketKey(db, 3600, Date.now()); // fresh
    db.close();
    assert.equal(await main(['-C', confPath], io), 0);
    assert.match(io.log.lines.at(-1)!, /purged 0 out of 1 entries/);
    db = openSessionDb(conf);
    db.store('ticketkey', Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]), Buffer.alloc(48)])); // 1970
    db.close();
    assert.equal(await main(['-C', confPath], io), 0);
    assert.match(io.log.lines.at(-1)!, /purged 1 out of 1 entries/);
    assert.equal(await main(['-C', confPath, 'junk'], io), 64);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
