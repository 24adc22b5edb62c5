/**
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4) over raw IMAP: SEARCH/SORT RETURN (UPDATE),
 * the ADDTO/REMOVEFROM updates another connection's APPEND, STORE and EXPUNGE cause (seen at
 * NOOP and during IDLE), CANCELUPDATE, NOUPDATE, and contexts ending with SELECT/UNSELECT.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient, startTestImapd, type TestImapd } from '../test-helpers.js';
import type { MailboxView, SearchKey } from '../../../store/api.js';
import { MAX_CONTEXTS, SearchContexts } from '../context.js';

let srv: TestImapd;
let a: RawClient;
let b: RawClient;

before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
  a = await RawClient.connect(srv.port);
  await a.login();
  b = await RawClient.connect(srv.port);
  await b.login();
});

after(async () => {
  a.close();
  b.close();
  await srv.stop();
});

let n = 0;
/** APPEND a message dated `day` Feb 1994 to `box` through `c`; returns the tagged reply */
async function append(c: RawClient, box: string, day: number, flags = ''): Promise<string> {
  const m = `Date: ${day} Feb 1994 10:00:00 +0000\r\nSubject: m${++n}\r\nFrom: a@example.org\r\n\r\nbody ${n}\r\n`;
  c.write(`ap${n} APPEND ${box}${flags ? ` (${flags})` : ''} {${m.length}+}\r\n${m}\r\n`);
  const r = await c.until(`ap${n}`);
  assert.match(r.tagged, /^OK/);
  return r.tagged;
}

/** a fresh mailbox holding messages dated on `days`, selected by both connections */
async function mailbox(name: string, days: number[], seen: number[] = []): Promise<void> {
  assert.match((await a.cmd(`CREATE ${name}`)).tagged, /^OK/);
  for (let i = 0; i < days.length; i++) await append(a, name, days[i]!, seen.includes(i + 1) ? '\\Seen' : '');
  assert.match((await a.cmd(`SELECT ${name}`)).tagged, /^OK/);
  assert.match((await b.cmd(`SELECT ${name}`)).tagged, /^OK/);
}

const esearch = (lines: string[]): string[] => lines.filter((l) => l.startsWith('* ESEARCH'));

test('CONTEXT=SEARCH and CONTEXT=SORT are advertised', async () => {
  const caps = (await a.cmd('CAPABILITY')).lines[0]!.split(' ');
  assert.ok(caps.includes('CONTEXT=SEARCH'));
  assert.ok(caps.includes('CONTEXT=SORT'));
});

test('UID SEARCH RETURN (UPDATE): ADDTO and REMOVEFROM as messages arrive, change and leave', async () => {
  await mailbox('s1', [1, 2, 3], [2]);
  a.write('C01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n');
  let r = await a.until('C01');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "C01") UID ALL 1,3']);
  assert.equal(r.tagged, 'OK Completed');
  // a new unseen message: position 0, as for any SEARCH context
  await append(b, 's1', 4);
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C01") UID ADDTO (0 4)']);
  assert.ok(r.lines.indexOf('* 4 EXISTS') < r.lines.indexOf('* ESEARCH (TAG "C01") UID ADDTO (0 4)'));
  // a message seen elsewhere stops matching; another one unseen starts matching
  await b.cmd('UID STORE 1 +FLAGS (\\Seen)');
  await b.cmd('UID STORE 2 -FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C01") UID REMOVEFROM (0 1) ADDTO (0 2)']);
  // a flag change that does not touch the key: nothing
  await b.cmd('UID STORE 3 +FLAGS (\\Flagged)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), []);
  assert.equal(r.lines.length, 1, r.lines.join('|'));
  // expunged elsewhere: the EXPUNGE, then REMOVEFROM for the uid
  await b.cmd('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  r = await a.cmd('NOOP');
  assert.ok(r.lines.includes('* 3 EXPUNGE'), r.lines.join('|'));
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C01") UID REMOVEFROM (0 3)']);
  // this session's own STORE counts as well
  r = await a.cmd('UID STORE 2,4 +FLAGS.SILENT (\\Seen)');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C01") UID REMOVEFROM (0 2,4)']);
});

test('SEARCH RETURN (COUNT UPDATE) in sequence numbers; CONTEXT is a hint', async () => {
  await mailbox('s2', [1, 2, 3], [1]);
  a.write('C02 SEARCH RETURN (CONTEXT UPDATE COUNT) UNSEEN\r\n');
  let r = await a.until('C02');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "C02") COUNT 2']);
  await append(b, 's2', 9);
  await b.cmd('UID STORE 2 +FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  // message 4 (uid 4) arrives, message 2 leaves
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C02") REMOVEFROM (0 2) ADDTO (0 4)']);
  // an expunge in a sequence-number context: the EXPUNGE response says it all
  await b.cmd('UID STORE 3 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  r = await a.cmd('NOOP');
  assert.ok(r.lines.includes('* 3 EXPUNGE'));
  assert.deepEqual(esearch(r.lines), []);
  // and the numbers after it are the new ones: uid 1 unseen again is still message 1, uid 4 is 3
  await b.cmd('UID STORE 1,4 FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C02") REMOVEFROM (0 3)']);
  await b.cmd('UID STORE 1 -FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "C02") ADDTO (0 1)']);
});

test('UID SORT RETURN (UPDATE): positions in sort order', async () => {
  // sort by date: uids 3 (day 1), 1 (day 5), 2 (day 7)
  await mailbox('s3', [5, 7, 1]);
  a.write('B01 UID SORT RETURN (UPDATE) (DATE) UTF-8 UNSEEN\r\n');
  let r = await a.until('B01');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "B01") UID ALL 3,1:2']);
  // uid 4 (day 6) and uid 5 (day 2) arrive: 3,5,1,4,2, inserted in turn at positions 2 and 4
  await append(b, 's3', 6);
  await append(b, 's3', 2);
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "B01") UID ADDTO (2 5) ADDTO (4 4)']);
  // now 3,5,1,4,2: uid 1 (position 3) and uid 2 (position 5) seen, removed from the end first
  await b.cmd('UID STORE 1,2 +FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "B01") UID REMOVEFROM (5 2) REMOVEFROM (3 1)']);
  // back again: 3,5,4 → 3,5,1,4,2
  await b.cmd('UID STORE 1,2 -FLAGS (\\Seen)');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "B01") UID ADDTO (3 1) ADDTO (5 2)']);
  // expunged: REMOVEFROM at the position it held (3,5,1,4,2: uid 4 is fourth)
  await b.cmd('UID STORE 4 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "B01") UID REMOVEFROM (4 4)']);
  // two adjacent arrivals share a pair: days 3 and 4 go after uid 5 (day 2)
  await append(b, 's3', 4);
  await append(b, 's3', 3);
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), ['* ESEARCH (TAG "B01") UID ADDTO (3 7,6)']);
});

test('SORT RETURN (UPDATE) in sequence numbers; updates arrive during IDLE', async () => {
  await mailbox('s4', [5, 7, 1]);
  a.write('B02 SORT RETURN (UPDATE COUNT) (REVERSE DATE) UTF-8 UNSEEN\r\n');
  const r = await a.until('B02');
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "B02") COUNT 3']);
  a.write('i IDLE\r\n');
  assert.equal(await a.line(), '+ idling');
  await append(b, 's4', 9);
  const seen: string[] = [];
  while (!seen.some((l) => l.startsWith('* ESEARCH'))) seen.push(await a.line());
  assert.ok(seen.includes('* 4 EXISTS'), seen.join('|'));
  // newest first: day 9 goes to the front
  assert.equal(seen[seen.length - 1], '* ESEARCH (TAG "B02") ADDTO (1 4)');
  await b.cmd('UID STORE 2 +FLAGS (\\Seen)');
  let l = await a.line();
  assert.equal(l, '* 2 FETCH (UID 2 FLAGS (\\Seen))');
  // 4,2,1,3 in reverse date order: message 2 was second
  l = await a.line();
  assert.equal(l, '* ESEARCH (TAG "B02") REMOVEFROM (2 2)');
  a.write('DONE\r\n');
  assert.equal((await a.until('i')).tagged, 'OK Completed');
});

test('CANCELUPDATE ends a context; SELECT and UNSELECT end them all', async () => {
  await mailbox('s5', [1, 2]);
  await a.cmd('UID SEARCH RETURN (UPDATE) UNSEEN');
  a.write('D01 UID SEARCH RETURN (UPDATE) ALL\r\n');
  await a.until('D01');
  a.write('D02 UID SEARCH RETURN (UPDATE) SEEN\r\n');
  await a.until('D02');
  // a tag that names no context is BAD, and nothing is cancelled
  assert.match((await a.cmd('CANCELUPDATE "D01" "nope"')).tagged, /^BAD/);
  assert.match((await a.cmd('CANCELUPDATE D01')).tagged, /^BAD/);
  assert.equal((await a.cmd('CANCELUPDATE "D01"')).tagged, 'OK Completed');
  await b.cmd('UID STORE 1 +FLAGS (\\Seen)');
  let r = await a.cmd('NOOP');
  // the UNSEEN context (tag t…) and D02 still live; D01 gone
  const lines = esearch(r.lines);
  assert.equal(lines.length, 2, lines.join('|'));
  assert.ok(lines.includes('* ESEARCH (TAG "D02") UID ADDTO (0 1)'));
  assert.ok(!lines.some((x) => x.includes('"D01"')));
  assert.equal((await a.cmd('CANCELUPDATE "D02"')).tagged, 'OK Completed');
  assert.match((await a.cmd('CANCELUPDATE "D02"')).tagged, /^BAD/);
  // SELECT again: every context ends
  await a.cmd('SELECT s5');
  await append(b, 's5', 3);
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), []);
  a.write('D03 UID SEARCH RETURN (UPDATE) ALL\r\n');
  await a.until('D03');
  assert.equal((await a.cmd('UNSELECT')).tagged, 'OK Completed');
  await a.cmd('SELECT s5');
  await append(b, 's5', 4);
  r = await a.cmd('NOOP');
  assert.deepEqual(esearch(r.lines), []);
  assert.match((await a.cmd('CANCELUPDATE "D03"')).tagged, /^BAD/);
  // outside the selected state it is not allowed
  await a.cmd('UNSELECT');
  assert.match((await a.cmd('CANCELUPDATE "D03"')).tagged, /^BAD/);
});

test('NOUPDATE: at most ten live contexts; a tag reused replaces its context', async () => {
  await mailbox('s6', [1]);
  for (let i = 1; i <= 10; i++) {
    a.write(`N${i} UID SEARCH RETURN (UPDATE) ALL\r\n`);
    assert.equal((await a.until(`N${i}`)).tagged, 'OK Completed');
  }
  a.write('N5 UID SEARCH RETURN (UPDATE) UNSEEN\r\n');
  assert.equal((await a.until('N5')).tagged, 'OK Completed');
  a.write('N11 UID SEARCH RETURN (UPDATE) ALL\r\n');
  const r = await a.until('N11');
  // the result is still given
  assert.deepEqual(r.lines, ['* ESEARCH (TAG "N11") UID ALL 1']);
  assert.equal(r.tagged, 'OK [NOUPDATE "N11"] Too many contexts');
  await append(b, 's6', 2);
  const u = esearch((await a.cmd('NOOP')).lines);
  assert.equal(u.length, 10);
  assert.ok(!u.some((x) => x.includes('"N11"')));
  // without UPDATE no context is kept, and no NOUPDATE
  assert.equal((await a.cmd('UID SEARCH RETURN (ALL) ALL')).tagged, 'OK Completed');
  await a.cmd('CANCELUPDATE "N1"');
  a.write('N12 UID SORT RETURN (UPDATE) (DATE) UTF-8 ALL\r\n');
  assert.equal((await a.until('N12')).tagged, 'OK Completed');
  await a.cmd('UNSELECT');
});

test('an update searches only the uids that changed, never the whole mailbox', () => {
  const searched: SearchKey[] = [];
  const flagged = new Set([2, 7]);
  // a view of 1000 messages of which only the search is used
  const view = {
    uids: () => Uint32Array.from({ length: 1000 }, (_, i) => i + 1),
    search(k: SearchKey) {
      searched.push(k);
      const only = k.op === 'and' && k.keys[0]!.op === 'uid' ? k.keys[0]!.uids : [];
      return only.filter((u) => flagged.has(u));
    },
  } as unknown as MailboxView;
  const ctxs = new SearchContexts();
  const key: SearchKey = { op: 'flag', flag: '\\Flagged' };
  assert.ok(ctxs.add({ tag: 'T', uid: true, key, sort: null, result: [2, 5] }));
  const out: string[] = [];
  ctxs.update(view, [7, 5, 7], (l) => out.push(l));
  assert.deepEqual(searched, [{ op: 'and', keys: [{ op: 'uid', uids: [5, 7] }, key] }]);
  assert.deepEqual(out, ['ESEARCH (TAG "T") UID REMOVEFROM (0 5) ADDTO (0 7)']);
  // nothing changed: no search at all
  ctxs.update(view, [], (l) => out.push(l));
  assert.equal(searched.length, 1);
  // contexts are limited, a tag reused replaces
  for (let i = 1; i < MAX_CONTEXTS; i++)
    assert.ok(ctxs.add({ tag: `T${i}`, uid: true, key, sort: null, result: [] }));
  assert.ok(!ctxs.add({ tag: 'X', uid: true, key, sort: null, result: [] }));
  assert.ok(ctxs.add({ tag: 'T', uid: false, key, sort: null, result: [] }));
  assert.equal(ctxs.size, MAX_CONTEXTS);
});
