import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memoryLogger } from '../../log/logger.js';
import idled from './idled.js';
import { startTestImapd } from './test-helpers.js';

test('idled: removes a stale idlesocket, runs until master aborts it', async () => {
  const srv = await startTestImapd({});
  try {
    const sock = srv.conf.getString('idlesocket')!;
    mkdirSync(join(sock, '..'), { recursive: true });
    writeFileSync(sock, 'stale');
    const abort = new AbortController();
    const log = memoryLogger('idled');
    let done = false;
    const run = idled
      .run({ service: 'idled', argv: [], config: srv.conf, log, signal: abort.signal })
      .then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(sock), false);
    assert.equal(done, false);
    abort.abort();
    await run;
    assert.equal(done, true);
    assert.ok(log.lines.some((l) => /nothing to do/.test(l)));
  } finally {
    await srv.stop();
  }
});
