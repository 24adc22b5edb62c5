import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from '../store/index.js';
import { tempSite, admin, message } from '../store/test-helpers.js';
import type { ToolIO } from '../store/cli.js';
import { main as ctlMboxlist } from './ctl_mboxlist.js';
import { main as ctlCyrusdb } from './ctl_cyrusdb.js';
import { main as mbpath } from './mbpath.js';
import { main as dbtool } from './dbtool.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function io(stdin = ''): ToolIO & { out: string; err: string } {
  const o = {
    out: '',
    err: '',
    stdout: (t: string) => void (o.out += t),
    stderr: (t: string) => void (o.err += t),
    stdin: async () => stdin,
  };
  return o;
}

test('cyr_ctl_mboxlist: dump, then undump into a fresh site gives the same list', async () => {
  const a = tempSite();
  const b = tempSite();
  try {
    const s = openStore(a.conf);
    s.ensureInbox('fred');
    s.createMailbox(admin, 'user.fred.Sent', { specialUse: ['\\Sent'] });
    s.setAcl(admin, 'user.fred.Sent', 'bob', 'lr');
    s.close();
    const d = io();
    assert.equal(await ctlMboxlist(['-C', a.confPath, '-d'], d), 0);
    const dump = JSON.parse(d.out) as Record<string, { partition: string; acl: Record<string, string> }>;
    assert.deepEqual(Object.keys(dump), ['user.fred', 'user.fred.Sent']);
    assert.equal(dump['user.fred.Sent']!.acl['bob'], 'lr');
    const u = io(d.out);
    assert.equal(await ctlMboxlist(['-C', b.confPath, '-u'], u), 0);
    const d2 = io();
    assert.equal(await ctlMboxlist(['-C', b.confPath, '-d'], d2), 0);
    assert.equal(d2.out, d.out);
    // the loaded list is usable: appending creates the index row on first use
    const s2 = openStore(b.conf);
    await s2.append(admin, 'user.fred', message('after undump'));
    assert.equal(s2.status(admin, 'user.fred').messages, 1);
    s2.close();
    assert.equal(await ctlMboxlist(['-C', b.confPath, '-u'], io('not json')), 65);
    assert.equal(await ctlMboxlist(['-C', b.confPath], io()), 64);
    const h = io();
    assert.equal(await ctlMboxlist(['-h'], h), 0);
    assert.match(h.out, /usage: cyr_ctl_mboxlist/);
  } finally {
    a.cleanup();
    b.cleanup();
  }
});

test('cyr_ctl_cyrusdb -c archives persistent databases, -r checks them', async () => {
  const site = tempSite();
  try {
    const s = openStore(site.conf);
    s.ensureInbox('fred');
    s.close();
    assert.equal(await ctlCyrusdb(['-C', site.confPath, '-c'], io()), 0);
    assert.ok(existsSync(join(site.conf.configDirectory, 'db.backup1', 'mailboxes.db')));
    assert.equal(await ctlCyrusdb(['-C', site.confPath, '-c'], io()), 0);
    assert.ok(existsSync(join(site.conf.configDirectory, 'db.backup2', 'mailboxes.db')));
    // a spool file left by a process that died mid-append is removed by recovery; a live one stays
    const stage = join(site.dir, 'spool', 'stage.');
    mkdirSync(stage, { recursive: true });
    writeFileSync(join(stage, '2147483646-1-dead'), 'partial');
    writeFileSync(join(stage, `${process.pid}-1-live`), 'in progress');
    const r = io();
    assert.equal(await ctlCyrusdb(['-C', site.confPath, '-r'], r), 0, r.err);
    assert.equal(existsSync(join(stage, '2147483646-1-dead')), false);
    assert.equal(existsSync(join(stage, `${process.pid}-1-live`)), true);
    const bad = io();
    assert.equal(await ctlCyrusdb(['-C', site.confPath, '-r', '-c'], bad), 64);
    assert.match(bad.err, /exactly one of -r or -c/);
    assert.equal(await ctlCyrusdb(['-C', join(site.dir, 'missing.conf'), '-r'], io()), 78);
  } finally {
    site.cleanup();
  }
});

test('cyr_mbpath prints the data directory; cyr_dbtool shows and edits a database', async () => {
  const site = tempSite();
  try {
    const s = openStore(site.conf);
    const info = s.ensureInbox('fred');
    s.close();
    const o = io();
    assert.equal(await mbpath(['-C', site.confPath, 'user.fred'], o), 0);
    assert.equal(
      o.out.trim(),
      join(site.dir, 'spool', 'uuid', info.uniqueId[0]!, info.uniqueId[1]!, info.uniqueId),
    );
    const slash = io();
    assert.equal(await mbpath(['-C', site.confPath, 'user/fred'], slash), 0);
    assert.equal(slash.out, o.out);
    const u = io();
    assert.equal(await mbpath(['-C', site.confPath, '-u', '-M', 'fred'], u), 0);
    assert.match(u.out, /user\/f\/fred\.index\.db\n$/);
    assert.equal(await mbpath(['-C', site.confPath, 'user.nobody'], io()), 66);
    const db = join(site.dir, 'x.db');
    assert.equal(await dbtool(['-C', site.confPath, '-n', db, 'twoskip', 'set', 'k1', 'v1'], io()), 0);
    assert.equal(await dbtool(['-C', site.confPath, db, 'twoskip', 'set'], io('k2\tv\t2\n')), 0);
    const show = io();
    assert.equal(await dbtool(['-C', site.confPath, db, 'twoskip', 'show'], show), 0);
    assert.equal(show.out, 'k1\tv1\nk2\tv\\x092\n');
    assert.equal(await dbtool(['-C', site.confPath, db, 'twoskip', 'delete', 'k1'], io()), 0);
    assert.equal(await dbtool(['-C', site.confPath, db, 'twoskip', 'get', 'k1'], io()), 65);
    assert.equal(await dbtool(['-C', site.confPath, db, 'bogus', 'show'], io()), 66);
    assert.equal(await dbtool(['-C', site.confPath, join(site.dir, 'none.db'), 'sqlite', 'show'], io()), 66);
  } finally {
    site.cleanup();
  }
});
