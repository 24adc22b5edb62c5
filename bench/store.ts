/**
 * `npm run bench -- store [--count N] [--dir path]`: the mail store on its own.
 *
 * Appends N messages of mixed size (2-50 KB of text, deterministic) into one mailbox through
 * `Store.append` (each fsynced and committed, as a delivery), then measures: opening the
 * mailbox and listing every uid with its flags, reading every cached envelope, a body SEARCH
 * over all messages, and the index's disk bytes per message (the SQLite index db with its
 * WAL, not counting the message files). Default N = 100000. Temp data is removed afterwards.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadImapdConf } from '../src/config/imapd-conf.js';
import { openStore } from '../src/store/index.js';
import { StoreImpl } from '../src/store/store.js';

const WORDS =
  'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'.split(
    ' ',
  );

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeMessage(i: number, rand: () => number): Buffer {
  const size = 2048 + Math.floor(rand() * 48 * 1024);
  const head =
    `From: Sender ${i % 97} <sender${i % 97}@example.org>\r\nTo: fred@example.org\r\n` +
    `Subject: report ${WORDS[i % WORDS.length]} ${i}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n` +
    `Message-ID: <bench.${i}@example.org>\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n`;
  const parts: string[] = [head];
  let len = head.length;
  while (len < size) {
    let line = '';
    while (line.length < 70) line += WORDS[Math.floor(rand() * WORDS.length)] + ' ';
    line += '\r\n';
    parts.push(line);
    len += line.length;
  }
  return Buffer.from(parts.join(''));
}

function dirBytes(dir: string, filter: (f: string) => boolean): number {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) n += dirBytes(p, filter);
    else if (filter(f.name)) n += statSync(p).size;
  }
  return n;
}

function ms(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export default async function bench(args: string[]): Promise<void> {
  const ci = args.indexOf('--count');
  const count = ci >= 0 ? Number(args[ci + 1]) : 100000;
  const di = args.indexOf('--dir');
  const base = mkdtempSync(join(di >= 0 ? args[di + 1]! : tmpdir(), 'bench-store-'));
  const confPath = join(base, 'imapd.conf');
  writeFileSync(
    confPath,
    `configdirectory: ${join(base, 'conf')}\npartition-default: ${join(base, 'spool')}\n`,
  );
  const conf = loadImapdConf(confPath, { service: 'imap', warn: () => undefined });
  const store = openStore(conf) as StoreImpl;
  const who = { userid: 'fred', isAdmin: false, groups: [] };
  try {
    store.ensureInbox('fred');
    const rand = rng(42);
    let bytes = 0;
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      const m = makeMessage(i, rand);
      bytes += m.length;
      await store.append(who, 'user.fred', m, { flags: i % 3 === 0 ? ['\\Seen'] : [] });
      if (i > 0 && i % 10000 === 0) console.log(`  ... ${i} appended`);
    }
    const appendMs = ms(t0);

    t0 = process.hrtime.bigint();
    const view = store.open(who, 'user.fred', { readOnly: false });
    const recs = view.records(view.uids());
    const listMs = ms(t0);
    if (recs.length !== count) throw new Error(`listed ${recs.length} of ${count}`);

    t0 = process.hrtime.bigint();
    let subj = 0;
    for (const u of view.uids()) subj += view.cache(u).envelope.subject ? 1 : 0;
    const envMs = ms(t0);
    if (subj !== count) throw new Error('missing envelopes');

    t0 = process.hrtime.bigint();
    const hits = view.search({ op: 'body', value: 'ZULU ALPHA' }).length;
    const searchMs = ms(t0);
    t0 = process.hrtime.bigint();
    const subjHits = view.search({ op: 'header', name: 'subject', value: 'REPORT ZULU' }).length;
    const hdrMs = ms(t0);
    t0 = process.hrtime.bigint();
    view.sort([{ key: 'subject', reverse: false }], { op: 'all' });
    const sortMs = ms(t0);
    view.close();

    const e = store.mboxlist.get('user.fred')!;
    const idx = store.layout.indexPath(store.layout.indexKey(e.name, e.uniqueId));
    const indexBytes = dirBytes(dirname(idx), (f) => f.startsWith('fred.index.db'));
    const idb = store.indexFor(e);
    const text = idb.db
      .prepare<[], { b: number | null; h: number | null }>(
        'SELECT (SELECT sum(length(search_body)) FROM bodytext) AS b, (SELECT sum(length(search_headers)) FROM hdrtext) AS h',
      )
      .get()!;
    const files = dirBytes(join(base, 'spool', 'uuid'), () => true);
    const rows: [string, string][] = [
      [
        'messages',
        `${count} (avg ${(bytes / count / 1024).toFixed(1)} KiB, ${(bytes / 2 ** 20).toFixed(0)} MiB total)`,
      ],
      [
        'append (fsync+commit each)',
        `${(count / (appendMs / 1000)).toFixed(0)} msg/s, ${(bytes / 2 ** 20 / (appendMs / 1000)).toFixed(1)} MiB/s, ${(appendMs / 1000).toFixed(1)} s`,
      ],
      ['open + list uids/flags', `${listMs.toFixed(0)} ms`],
      [
        'read all cached envelopes',
        `${envMs.toFixed(0)} ms (${((envMs * 1000) / count).toFixed(1)} us each)`,
      ],
      ['SEARCH BODY over all', `${searchMs.toFixed(0)} ms (${hits} hits)`],
      ['SEARCH SUBJECT over all', `${hdrMs.toFixed(0)} ms (${subjHits} hits)`],
      ['SORT SUBJECT all', `${sortMs.toFixed(0)} ms`],
      [
        'index db (with search text)',
        `${(indexBytes / 2 ** 20).toFixed(1)} MiB = ${(indexBytes / count).toFixed(0)} bytes/msg`,
      ],
      [
        '  of which search text',
        `body ${((text.b ?? 0) / count).toFixed(0)} + header ${((text.h ?? 0) / count).toFixed(0)} bytes/msg`,
      ],
      ['message files', `${(files / 2 ** 20).toFixed(0)} MiB`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(30)} ${v}`);
  } finally {
    store.close();
    rmSync(base, { recursive: true, force: true });
  }
}
