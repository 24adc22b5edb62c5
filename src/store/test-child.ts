/**
 * A helper process for the store's multi-process tests (not a test itself):
 *   node test-child.js <imapd.conf> append <mailbox> <count> <tag>   append count messages, report each uid
 *   node test-child.js <imapd.conf> forever <mailbox> <tag>         append until killed, report each uid
 *   node test-child.js <imapd.conf> churn <mailbox> <tag>           append two, expunge one, until killed
 *   node test-child.js <imapd.conf> parallel <mailbox> <tag>        4 appends at a time (group commits), until killed
 * Reports go to the parent over IPC: { uid, n, at } per message, then { done: true }.
 */
import { loadImapdConf } from '../config/imapd-conf.js';
import { openStore } from './index.js';

const [confPath, cmd, mailbox, a, b] = process.argv.slice(2);
const conf = loadImapdConf(confPath!, { service: 'imap', warn: () => undefined });
const store = openStore(conf);
const who = { userid: 'fred', isAdmin: false, groups: [] };
const send = (m: unknown): Promise<void> => new Promise((res) => process.send!(m, () => res()));

function msg(tag: string, n: number): Buffer {
  const body = `message ${n} from ${tag}\r\n`.repeat(1 + (n % 20));
  return Buffer.from(
    `From: t@example.org\r\nSubject: ${tag}-${n}\r\nMessage-ID: <${tag}.${n}@x>\r\n\r\n${body}`,
  );
}

if (cmd === 'append') {
  const count = Number(a);
  for (let n = 0; n < count; n++) {
    const r = await store.append(who, mailbox!, msg(b!, n));
    await send({ uid: r.uid, n, at: Date.now() });
  }
  await send({ done: true });
  store.close();
  process.disconnect();
} else if (cmd === 'forever') {
  for (let n = 0; ; n++) {
    const r = await store.append(who, mailbox!, msg(a!, n));
    await send({ uid: r.uid, n, at: Date.now() });
  }
} else if (cmd === 'parallel') {
  let next = 0;
  const loop = async (): Promise<void> => {
    for (;;) {
      const n = next++;
      const r = await store.append(who, mailbox!, msg(a!, n));
      await send({ uid: r.uid, n, at: Date.now() });
    }
  };
  await Promise.all([loop(), loop(), loop(), loop()]);
} else if (cmd === 'churn') {
  const view = store.open(who, mailbox!, { readOnly: false });
  for (let n = 0; ; n += 2) {
    const keep = await store.append(who, mailbox!, msg(a!, n));
    const drop = await store.append(who, mailbox!, msg(a!, n + 1));
    view.sync();
    view.storeFlags([drop.uid], 'add', ['\\Deleted']);
    view.applyExpunges(view.expunge([drop.uid]));
    await send({ uid: keep.uid, n, at: Date.now() });
  }
}
