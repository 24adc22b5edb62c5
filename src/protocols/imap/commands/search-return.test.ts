/**
 * ESORT (RFC 5267 §3) and PARTIAL (RFC 9394 §3.1) over raw IMAP: result options of SORT and
 * SEARCH, answered with ESEARCH, in the shapes of the RFCs' examples.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';
import { orderedSeqSet, parsePartialRange, parseReturnOpts, partialSlice } from './search-return.js';

let srv: TestImapd;
let c: RawClient;

// sort by DATE gives uids 4 5 6 1 2 3
const DAYS = [4, 5, 6, 1, 2, 3];

before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
  c = await RawClient.connect(srv.port);
  await c.login();
  for (let i = 0; i < DAYS.length; i++) {
    const m = `Date: ${DAYS[i]} Feb 1994 10:00:00 +0000\r\nSubject: m${i + 1}\r\nFrom: a@example.org\r\n\r\nbody ${i + 1}\r\n`;
    c.write(`a APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
    assert.match((await c.until('a')).tagged, /^OK/);
  }
  await c.cmd('SELECT INBOX');
  // uids 2 and 5 deleted: UNDELETED is 1,3,4,6
  assert.equal((await c.cmd('STORE 2,5 +FLAGS.SILENT (\\Deleted)')).tagged, 'OK Completed');
});
/** run a command under a tag of our own; the ESEARCH responses' tag, checked, becomes "X" */
let k = 0;
async function run(cmd: string): Promise<{ tagged: string; lines: string[] }> {
  const tag = `x${++k}`;
  c.write(`${tag} ${cmd}\r\n`);
  const r = await c.until(tag);
  return { tagged: r.tagged, lines: r.lines.map((l) => l.replace(`(TAG "${tag}")`, '(TAG "X")')) };
}

after(async () => {
  c.close();
  await srv.stop();
});

test('ESORT is advertised, and PARTIAL', async () => {
  const caps = (await run('CAPABILITY')).lines[0]!.split(' ');
  assert.ok(caps.includes('ESORT'));
  assert.ok(caps.includes('PARTIAL'));
});

test('RFC 5267 §3: SORT RETURN (MIN MAX COUNT) and ALL in sort order', async () => {
  let r = await run('SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL');
  assert.equal(r.tagged, 'OK Completed');
  // MIN and MAX are the first and last in sort order, not the lowest and highest numbers
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") MIN 4 MAX 3 COUNT 6']);
  r = await run('SORT RETURN (ALL) (DATE) UTF-8 ALL');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") ALL 4:6,1:3']);
  r = await run('SORT RETURN (ALL) (REVERSE DATE) UTF-8 ALL');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") ALL 3,2,1,6,5,4']);
  // RETURN () means ALL; UID SORT says UID
  r = await run('UID SORT RETURN () (DATE) UTF-8 UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID ALL 4,6,1,3']);
  // nothing matched: only COUNT
  r = await run('SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 SUBJECT nothing');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") COUNT 0']);
  // without RETURN: the classic SORT response
  r = await run('SORT (DATE) UTF-8 ALL');
  assert.deepEqual(r.lines, ['* SORT 4 5 6 1 2 3']);
  // SAVE is not a SORT option; unknown options are BAD
  assert.match((await run('SORT RETURN (SAVE) (DATE) UTF-8 ALL')).tagged, /^BAD/);
  assert.match((await run('SORT RETURN (FOO) (DATE) UTF-8 ALL')).tagged, /^BAD/);
});

test('PARTIAL on SORT pages in sort order', async () => {
  let r = await run('SORT RETURN (PARTIAL 2:3) (DATE) UTF-8 ALL');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") PARTIAL (2:3 5:6)']);
  r = await run('UID SORT RETURN (COUNT PARTIAL -1:-2) (DATE) UTF-8 ALL');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (-1:-2 2:3) COUNT 6']);
});

test('RFC 9394 §3.1: SEARCH RETURN (PARTIAL ...) from the first and from the last result', async () => {
  // the RFC's A01: UID SEARCH RETURN (PARTIAL 1:500) UNDELETED (here a 3-message page)
  let r = await run('UID SEARCH RETURN (PARTIAL 1:3) UNDELETED');
  assert.equal(r.tagged, 'OK Completed');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (1:3 1,3:4)']);
  // the RFC's "-1:-100": counted from the newest match
  r = await run('UID SEARCH RETURN (PARTIAL -1:-2) UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (-1:-2 4,6)']);
  // a page running past the end is short; a page wholly past it is NIL (the RFC's A04)
  r = await run('UID SEARCH RETURN (PARTIAL 3:100) UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (3:100 4,6)']);
  r = await run('UID SEARCH RETURN (PARTIAL 24000:24500) UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (24000:24500 NIL)']);
  // MIN, MAX and COUNT are about the whole result; message numbers without UID
  r = await run('SEARCH RETURN (MIN COUNT PARTIAL 2:1) UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") MIN 1 PARTIAL (2:1 1,3) COUNT 4']);
});

test('RFC 9394 §3.1: one PARTIAL or one ALL, and the partial-range grammar', async () => {
  for (const bad of [
    'PARTIAL 1:5 ALL',
    'ALL PARTIAL 1:5',
    'PARTIAL 1:5 PARTIAL 6:9',
    'ALL ALL',
    'PARTIAL',
    'PARTIAL 0:5',
    'PARTIAL 1:*',
    'PARTIAL -1:5',
    'PARTIAL 5',
    'PARTIAL "1:5"',
    'PARTIAL 1:4294967296',
  ]) {
    const r = await run(`SEARCH RETURN (${bad}) ALL`);
    assert.match(r.tagged, /^BAD/, bad);
    assert.deepEqual(r.lines, [], bad);
    // a good command between: too many BADs in a row end the connection
    assert.equal((await run('NOOP')).tagged, 'OK Completed');
  }
});

test('RFC 9394 §3.2: SAVE with PARTIAL saves the page', async () => {
  const r = await run('UID SEARCH RETURN (SAVE PARTIAL -1:-3) UNDELETED');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "X") UID PARTIAL (-1:-3 3:4,6)']);
  const f = await run('UID FETCH $ (UID)');
  assert.deepEqual(f.lines, ['* 3 FETCH (UID 3)', '* 4 FETCH (UID 4)', '* 6 FETCH (UID 6)']);
});

test('RFC 9394 §3.3: UID FETCH ... (PARTIAL range), alone and after CHANGEDSINCE', async () => {
  // the RFC's example: UID FETCH 1:* (FLAGS) (PARTIAL -1:-30), the newest messages of the set
  let r = await run('UID FETCH 1:* (UID) (PARTIAL -1:-2)');
  assert.equal(r.tagged, 'OK Completed');
  assert.deepEqual(r.lines, ['* 5 FETCH (UID 5)', '* 6 FETCH (UID 6)']);
  r = await run('UID FETCH 2:* (UID) (PARTIAL 1:2)');
  assert.deepEqual(r.lines, ['* 2 FETCH (UID 2)', '* 3 FETCH (UID 3)']);
  r = await run('FETCH 1:4 (UID) (PARTIAL 4:3)');
  assert.deepEqual(r.lines, ['* 3 FETCH (UID 3)', '* 4 FETCH (UID 4)']);
  // an empty page is a successful FETCH without responses
  r = await run('UID FETCH 1:* (UID) (PARTIAL 7:9)');
  assert.deepEqual(r, { tagged: 'OK Completed', lines: [] });
  // pages count only the messages changed since CHANGEDSINCE
  const sel = await run('FETCH 1:* (MODSEQ)');
  const ms = (n: number): number =>
    Number(new RegExp(`^\\* ${n} FETCH \\(MODSEQ \\((\\d+)\\)`).exec(sel.lines[n - 1]!)![1]);
  const since = Math.max(...[1, 2, 3, 4, 5, 6].map(ms));
  assert.equal((await run('STORE 1,3,4,6 +FLAGS.SILENT (\\Flagged)')).tagged, 'OK Completed');
  r = await run(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${since} PARTIAL -1:-3)`);
  assert.equal(r.lines.length, 3, r.lines.join('\n'));
  assert.match(r.lines[0]!, /^\* 3 FETCH \(UID 3 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  assert.match(r.lines[2]!, /^\* 6 FETCH \(UID 6 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  assert.equal((await run('STORE 1,3,4,6 -FLAGS.SILENT (\\Flagged)')).tagged, 'OK Completed');
  for (const bad of ['(PARTIAL 1:5 PARTIAL 1:2)', '(PARTIAL)', '(PARTIAL 0:1)', '(PARTIAL -1:2)']) {
    assert.match((await run(`UID FETCH 1:* (UID) ${bad}`)).tagged, /^BAD/, bad);
    await run('NOOP');
  }
});

test('option parsing and paging helpers', () => {
  const atom = (v: string) => ({ t: 'atom' as const, v });
  assert.deepEqual(parsePartialRange('500:400'), { text: '500:400', from: 400, to: 500, fromEnd: false });
  assert.deepEqual(parsePartialRange('-1:-100'), { text: '-1:-100', from: 1, to: 100, fromEnd: true });
  assert.equal(parsePartialRange('-1:100'), null);
  const o = parseReturnOpts([atom('min'), atom('partial'), atom('-5:-1')], 'Search');
  assert.equal(o.min, true);
  assert.equal(o.all, false);
  assert.equal(o.partial?.from, 1);
  assert.deepEqual(parseReturnOpts([], 'Sort').all, true);
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.deepEqual(partialSlice(ten, parsePartialRange('-1:-3')!), [8, 9, 10]);
  assert.deepEqual(partialSlice(ten, parsePartialRange('-9:-20')!), [1, 2]);
  assert.deepEqual(partialSlice(ten, parsePartialRange('-11:-20')!), []);
  assert.deepEqual(partialSlice(ten, parsePartialRange('9:20')!), [9, 10]);
  assert.equal(orderedSeqSet([5, 3, 4, 2, 7, 8, 9]), '5,3:4,2,7:9');
});
