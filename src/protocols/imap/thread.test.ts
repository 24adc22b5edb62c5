import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatThreads, orderedSubject, references, type ThreadMsg } from './thread.js';
import { RawClient, startTestImapd, type TestImapd } from './test-helpers.js';

const M = (
  id: number,
  base: string,
  reply: boolean,
  messageId: string | null,
  refs: string[] = [],
): ThreadMsg => ({ id, date: id * 1000, base, reply, messageId, refs });
const MSGS = [
  M(1, 'A', false, '<1@x>'),
  M(2, 'A', true, '<2@x>', ['<1@x>']),
  M(3, 'B', false, '<3@x>'),
  M(4, 'A', true, '<4@x>', ['<1@x>', '<2@x>']),
  M(5, 'A', true, '<5@x>', ['<1@x>']),
  M(6, 'C', false, '<6@x>', ['<gone@x>']),
  M(7, 'C', true, '<7@x>', ['<gone@x>']),
];

test('ORDEREDSUBJECT groups by base subject, first message is the parent', () => {
  assert.equal(formatThreads(orderedSubject(MSGS)), '(1 (2)(4)(5))(3)(6 7)');
});

test('REFERENCES follows References, keeps a dummy root with several children, merges by subject', () => {
  assert.equal(formatThreads(references(MSGS)), '(1 (2 4)(5))(3)((6)(7))');
  // a reply whose parent is unknown joins the thread of the same base subject
  const r = references([M(1, 'X', false, '<a@x>'), M(2, 'X', true, '<b@x>', ['<nowhere@x>'])]);
  assert.equal(formatThreads(r), '(1 2)');
  // loops in References are ignored
  assert.equal(
    formatThreads(references([M(1, 'L', false, '<l1@x>', ['<l2@x>']), M(2, 'L', true, '<l2@x>', ['<l1@x>'])]))
      .length > 0,
    true,
  );
});

let srv: TestImapd;
before(async () => {
  srv = await startTestImapd({ fred: 'secret' });
});
after(async () => {
  await srv.stop();
});

test('THREAD command over a mailbox', async () => {
  const c = await RawClient.connect(srv.port);
  await c.login();
  const put = async (subj: string, mid: string, date: string, refs = ''): Promise<void> => {
    const m = `Subject: ${subj}\r\nMessage-ID: ${mid}\r\nDate: ${date}\r\n${refs ? `References: ${refs}\r\n` : ''}\r\nx\r\n`;
    c.write(`a APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
    await c.until('a');
  };
  await put('hello', '<h1@x>', 'Mon, 2 Nov 2026 10:00:00 +0000');
  await put('other', '<o1@x>', 'Mon, 2 Nov 2026 11:00:00 +0000');
  await put('Re: hello', '<h2@x>', 'Mon, 2 Nov 2026 12:00:00 +0000', '<h1@x>');
  await c.cmd('SELECT INBOX');
  const tr = await c.cmd('THREAD REFERENCES UTF-8 ALL');
  assert.deepEqual(tr.lines, ['* THREAD (1 3)(2)'], tr.tagged);
  assert.deepEqual((await c.cmd('UID THREAD ORDEREDSUBJECT UTF-8 ALL')).lines, ['* THREAD (1 3)(2)']);
  assert.equal((await c.cmd('THREAD BOGUS UTF-8 ALL')).tagged, 'BAD Invalid Thread algorithm');
  c.close();
});
