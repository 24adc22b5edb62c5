/**
 * CONDSTORE and QRESYNC (RFC 7162) over raw IMAP, exchange by exchange after the RFC's §3.1
 * and §3.2 examples (our modseqs are small numbers, so they are read from the server's answers).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';

let srv: TestImapd;

before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
});
after(async () => {
  await srv.stop();
});

async function fill(c: RawClient, box: string, n: number): Promise<void> {
  await c.cmd(`CREATE ${box}`);
  for (let i = 1; i <= n; i++) {
    const m = `Subject: m${i}\r\n\r\nbody ${i}\r\n`;
    c.write(`a APPEND ${box} {${m.length}+}\r\n${m}\r\n`);
    assert.match((await c.until('a')).tagged, /^OK/);
  }
}

const num = (re: RegExp, lines: string[]): number => Number(re.exec(lines.join('\n'))![1]);

/** modseq of each message (by uid) */
async function modseqs(c: RawClient): Promise<Map<number, number>> {
  const r = await c.cmd('UID FETCH 1:* (MODSEQ)');
  const out = new Map<number, number>();
  for (const l of r.lines) {
    const m = /UID (\d+) MODSEQ \((\d+)\)/.exec(l);
    if (m) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

test('RFC 7162 §3.1.2, §3.1.6, §3.1.8: HIGHESTMODSEQ in SELECT (CONDSTORE) and STATUS agree', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await fill(c, 'Cs', 3);
  const st = await c.cmd('STATUS Cs (HIGHESTMODSEQ)');
  const hs = num(/HIGHESTMODSEQ (\d+)/, st.lines);
  assert.ok(hs > 0);
  const sel = await c.cmd('SELECT Cs (CONDSTORE)');
  assert.equal(sel.tagged, 'OK [READ-WRITE] Completed');
  assert.ok(sel.lines.includes(`* OK [HIGHESTMODSEQ ${hs}] Ok`), sel.lines.join('\n'));
  // a flag change moves HIGHESTMODSEQ to the message's new modseq
  const f = await c.cmd('STORE 2 +FLAGS (\\Flagged)');
  const m2 = num(/MODSEQ \((\d+)\)/, f.lines);
  assert.ok(m2 > hs);
  assert.deepEqual((await c.cmd('STATUS Cs (HIGHESTMODSEQ)')).lines, [`* STATUS Cs (HIGHESTMODSEQ ${m2})`]);
  // an unknown SELECT parameter is BAD
  assert.match((await c.cmd('SELECT Cs (FOO)')).tagged, /^BAD/);
  c.close();
});

test('RFC 7162 §3.1.3: STORE (UNCHANGEDSINCE) stores what is unchanged, reports the rest in [MODIFIED]', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await fill(c, 'Us', 9);
  await c.cmd('SELECT Us (CONDSTORE)');
  const before = await modseqs(c);
  const since = Math.max(...before.values());
  // another client changes 7 and 9 meanwhile
  const other = await RawClient.connect(srv.port);
  await other.login();
  await other.cmd('SELECT Us');
  await other.cmd('STORE 7,9 +FLAGS.SILENT (\\Seen)');
  other.close();
  // the RFC's d105: STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)
  const r = await c.cmd(`STORE 7,5,9 (UNCHANGEDSINCE ${since}) +FLAGS.SILENT (\\Deleted)`);
  assert.equal(r.tagged, 'OK [MODIFIED 7,9] Conditional STORE failed');
  const mine = r.lines.filter((l) => / 5 FETCH /.test(l));
  assert.equal(mine.length, 1, r.lines.join('\n'));
  assert.match(mine[0]!, /^\* 5 FETCH \(MODSEQ \((\d+)\)\)$/);
  assert.ok(!r.lines.some((l) => /FETCH .*\\Deleted/.test(l)));
  // the RFC's a103: UID STORE 6,4,8 (UNCHANGEDSINCE ...) +FLAGS.SILENT (\Deleted): UID and MODSEQ each
  const hm = Math.max(...(await modseqs(c)).values());
  const u = await c.cmd(`UID STORE 6,4,8 (UNCHANGEDSINCE ${hm}) +FLAGS.SILENT (\\Deleted)`);
  assert.equal(u.tagged, 'OK Completed');
  assert.equal(u.lines.length, 3);
  for (const [i, uid] of [4, 6, 8].entries())
    assert.match(u.lines[i]!, new RegExp(`^\\* ${uid} FETCH \\(UID ${uid} MODSEQ \\(\\d+\\)\\)$`));
  // UNCHANGEDSINCE 0 never matches: every message has a modseq above 0
  const z = await c.cmd('UID STORE 1:2 (UNCHANGEDSINCE 0) +FLAGS (\\Answered)');
  assert.equal(z.tagged, 'OK [MODIFIED 1:2] Conditional STORE failed');
  assert.deepEqual(z.lines, []);
  c.close();
});

test('RFC 7162 §3.1.4, §3.1.5: FETCH (CHANGEDSINCE) and SEARCH MODSEQ', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await fill(c, 'Fs', 4);
  await c.cmd('SELECT Fs');
  const hm = Math.max(...(await modseqs(c)).values());
  await c.cmd('STORE 2 +FLAGS (\\Draft)');
  await c.cmd('STORE 4 +FLAGS (\\Flagged)');
  // the RFC's s100: UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)
  const f = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm})`);
  assert.equal(f.lines.length, 2);
  assert.match(f.lines[0]!, /^\* 2 FETCH \(UID 2 FLAGS \(\\Draft\) MODSEQ \(\d+\)\)$/);
  assert.match(f.lines[1]!, /^\* 4 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  const top = Math.max(...(await modseqs(c)).values());
  // the RFC's a: SEARCH MODSEQ "/flags/\\draft" all 620162338 → (MODSEQ highest of the matches)
  const s = await c.cmd(`SEARCH MODSEQ "/flags/\\\\draft" all ${hm + 1}`);
  assert.deepEqual(s.lines, [`* SEARCH 2 4 (MODSEQ ${top})`]);
  // nothing matched: no MODSEQ
  assert.deepEqual((await c.cmd(`SEARCH MODSEQ ${top + 1}`)).lines, ['* SEARCH']);
  const e = await c.cmd(`SEARCH RETURN (ALL) MODSEQ ${hm + 1}`);
  assert.match(e.lines[0]!, new RegExp(`^\\* ESEARCH \\(TAG "t\\d+"\\) ALL 2,4 MODSEQ ${top}$`));
  c.close();
});

test('RFC 7162 §3.2.3, §3.2.5: ENABLE QRESYNC, SELECT (QRESYNC (...)) with known-uids and seq-match-data', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await fill(c, 'Qs', 8);
  // QRESYNC before ENABLE is BAD
  assert.match((await c.cmd('SELECT Qs (QRESYNC (1 1))')).tagged, /^BAD/);
  assert.equal((await c.cmd('ENABLE QRESYNC')).tagged, 'OK Completed');
  const sel = await c.cmd('SELECT Qs');
  const uv = num(/UIDVALIDITY (\d+)/, sel.lines);
  const hm = num(/HIGHESTMODSEQ (\d+)/, sel.lines);
  // changes while the client is away: 2 and 5 expunged, 3 flagged, 9 arrives
  await c.cmd('STORE 2,5 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual((await c.cmd('EXPUNGE')).lines, ['* VANISHED 2,5']);
  await c.cmd('UID STORE 3 +FLAGS.SILENT (\\Flagged)');
  await c.cmd('UNSELECT');
  const m = 'Subject: m9\r\n\r\nbody 9\r\n';
  c.write(`a APPEND Qs {${m.length}+}\r\n${m}\r\n`);
  await c.until('a');

  // the RFC's A02: SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))
  const r = await c.cmd(`SELECT Qs (QRESYNC (${uv} ${hm} 1:8))`);
  assert.equal(r.tagged, 'OK [READ-WRITE] Completed');
  const at = (p: RegExp): number => r.lines.findIndex((l) => p.test(l));
  assert.ok(at(/^\* 7 EXISTS$/) >= 0, r.lines.join('\n'));
  const iH = at(/^\* OK \[HIGHESTMODSEQ \d+\]/);
  const iV = r.lines.indexOf('* VANISHED (EARLIER) 2,5');
  const iF = at(/^\* 2 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  assert.ok(iH >= 0 && iV > iH && iF > iV, r.lines.join('\n'));
  // the new message is announced by EXISTS, not by a FETCH
  assert.ok(!r.lines.some((l) => /UID 9 /.test(l)), r.lines.join('\n'));

  // known-uids limits VANISHED (EARLIER); seq-match-data is accepted
  const k = await c.cmd(`SELECT Qs (QRESYNC (${uv} ${hm} 4:8 (1:3 1:3)))`);
  assert.equal(k.tagged, 'OK [READ-WRITE] Completed');
  assert.ok(k.lines.includes('* OK [CLOSED] Ok'));
  assert.ok(k.lines.includes('* VANISHED (EARLIER) 5'), k.lines.join('\n'));
  assert.ok(!k.lines.some((l) => / FETCH /.test(l)), k.lines.join('\n'));
  // seq-match-data without known-uids
  const s = await c.cmd(`SELECT Qs (QRESYNC (${uv} ${hm} (1:3 1:3)))`);
  assert.equal(s.tagged, 'OK [READ-WRITE] Completed');
  assert.ok(s.lines.includes('* VANISHED (EARLIER) 2,5'), s.lines.join('\n'));
  // a stale UIDVALIDITY: a plain SELECT, no VANISHED or FETCH
  const stale = await c.cmd(`SELECT Qs (QRESYNC (${uv + 1} ${hm}))`);
  assert.ok(!stale.lines.some((l) => /VANISHED| FETCH /.test(l)), stale.lines.join('\n'));
  for (const bad of [`(QRESYNC (${uv}))`, `(QRESYNC (0 ${hm}))`, `(QRESYNC (${uv} ${hm} 1:8 (1:3)))`]) {
    assert.match((await c.cmd(`SELECT Qs ${bad}`)).tagged, /^BAD/, bad);
    await c.cmd('NOOP');
  }
  c.close();
});

test('RFC 7162 §3.2.6: UID FETCH (CHANGEDSINCE n VANISHED) sends VANISHED (EARLIER) first', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  await fill(c, 'Vs', 6);
  await c.cmd('ENABLE QRESYNC');
  await c.cmd('SELECT Vs');
  const hm = Math.max(...(await modseqs(c)).values());
  await c.cmd('UID STORE 1,4 +FLAGS.SILENT (\\Deleted)');
  await c.cmd('UID EXPUNGE 1');
  await c.cmd('UID STORE 6 +FLAGS.SILENT (\\Seen)');
  // the RFC's: UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)
  const r = await c.cmd(`UID FETCH 1:5 (FLAGS) (CHANGEDSINCE ${hm} VANISHED)`);
  assert.equal(r.lines[0], '* VANISHED (EARLIER) 1');
  assert.equal(r.lines.length, 2, r.lines.join('\n'));
  assert.match(r.lines[1]!, /^\* 3 FETCH \(UID 4 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$/);
  // with RFC 9394's PARTIAL: VANISHED (EARLIER) for the whole set, FETCH for the page only
  const p = await c.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm} VANISHED PARTIAL -1:-1)`);
  assert.equal(p.lines[0], '* VANISHED (EARLIER) 1');
  assert.equal(p.lines.length, 2, p.lines.join('\n'));
  assert.match(p.lines[1]!, /^\* 5 FETCH \(UID 6 FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/);
  // VANISHED needs UID FETCH and CHANGEDSINCE
  assert.match((await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm} VANISHED)`)).tagged, /^BAD/);
  await c.cmd('NOOP');
  assert.match((await c.cmd('UID FETCH 1:* (FLAGS) (VANISHED)')).tagged, /^BAD/);
  c.close();
});
