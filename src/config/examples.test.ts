// Every sample configuration under doc/examples loads with both readers, without a warning,
// passes `cyr_info conf-lint`, and every listen= resolves on a stock Debian /etc/services.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadCyrusConf } from './cyrus-conf.js';
import { impliedPath, loadImapdConf } from './imapd-conf.js';
import { resolveListen } from './services.js';
import { main as cyrInfo } from '../tools/info.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = join(ROOT, 'doc/examples');
const EXPECTED = [
  'dev',
  'murder-backend',
  'murder-frontend',
  'normal',
  'prefork',
  'replica',
  'small',
  'tmpfs',
];

// the service names Debian 12's netbase ships for our suite (no lmtp, smmap, csync, mupdate)
const DEBIAN_SERVICES = `imap2 143/tcp imap
pop3 110/tcp pop-3
nntp 119/tcp readnews untp
nntps 563/tcp snntp
imaps 993/tcp
pop3s 995/tcp
sieve 4190/tcp
`;

const folders = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

test('the expected example folders exist', () => {
  for (const f of EXPECTED) assert.ok(folders.includes(f), `doc/examples/${f} missing`);
});

for (const name of folders) {
  test(`example ${name}: both readers load it without warnings, conf-lint is clean, listen= resolves`, async () => {
    const imapd = join(EXAMPLES, name, 'imapd.conf');
    const cyrusPath = join(EXAMPLES, name, 'cyrus.conf');
    const warnings: string[] = [];
    const conf = loadImapdConf(imapd, { warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    if (conf.getString('mupdate_server') === null || name !== 'murder-frontend') {
      assert.ok(conf.partitions().size >= 1, 'at least one partition');
    } else {
      assert.equal(conf.partitions().size, 0, 'a Murder frontend stores no mail');
    }
    const cyrus = loadCyrusConf(cyrusPath);
    assert.deepEqual(cyrus.warnings, []);
    assert.ok(cyrus.services.length > 0);
    for (const s of cyrus.services) {
      const view = conf.forService(s.name);
      assert.equal(view.service, s.name);
    }

    let out = '';
    let err = '';
    const io = { stdout: (t: string) => (out += t), stderr: (t: string) => (err += t) };
    const code = await cyrInfo(['-C', imapd, '-M', cyrusPath, 'conf-lint'], io);
    assert.equal(out, '');
    assert.equal(err, '');
    assert.equal(code, 0);

    const dir = mkdtempSync(join(tmpdir(), 'examples-'));
    try {
      const services = join(dir, 'services');
      writeFileSync(services, DEBIAN_SERVICES);
      for (const s of cyrus.services) {
        assert.ok(resolveListen(s.listen, s.proto, services).length > 0, `${name}/${s.name}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // the unix LMTP listener is where lmtpsocket says deliver connects
    const lmtpunix = cyrus.services.find((s) => s.name === 'lmtpunix');
    if (lmtpunix) assert.equal(lmtpunix.listen, conf.getString('lmtpsocket'));
    const notify = cyrus.services.find((s) => s.name === 'notify');
    if (notify) assert.equal(notify.listen, conf.getString('notifysocket'));
  });
}

test('example tmpfs: every ephemeral path is under /run/cyrus and START needs none of them', () => {
  const conf = loadImapdConf(join(EXAMPLES, 'tmpfs/imapd.conf'), { warn: () => {} });
  for (const opt of [
    'proc_path',
    'mboxname_lockpath',
    'duplicate_db_path',
    'statuscache_db_path',
    'ptscache_db_path',
    'tls_sessions_db_path',
    'lmtpsocket',
    'idlesocket',
    'notifysocket',
  ]) {
    assert.match(impliedPath(conf, opt) ?? '', /^\/run\/cyrus\//, opt);
  }
  const cyrus = loadCyrusConf(join(EXAMPLES, 'tmpfs/cyrus.conf'));
  for (const s of cyrus.start) assert.ok(!['tls_prune', 'cyr_expire'].includes(s.cmd[0]!), s.name);
});

test('example dev: project-relative paths, loopback unprivileged ports, devsetup and checkpoint', () => {
  const conf = loadImapdConf(join(EXAMPLES, 'dev/imapd.conf'), { warn: () => {} });
  assert.equal(conf.configDirectory, 'var/lib');
  assert.equal(conf.partitions().get('default'), 'var/spool');
  assert.equal(conf.getSasl('sasldb_path'), 'var/lib/sasldb');
  assert.equal(conf.getSasl('pwcheck_method'), 'auxprop');
  assert.equal(conf.getSwitch('allowplaintext'), true);
  assert.equal(conf.getBytes('autocreate_quota'), 0);
  assert.equal(conf.getSwitch('autocreate_post'), true);
  for (const s of ['lmtpsocket', 'idlesocket', 'notifysocket'])
    assert.match(conf.getString(s)!, /^var\/lib\/socket\//);
  const cyrus = loadCyrusConf(join(EXAMPLES, 'dev/cyrus.conf'));
  const listen = Object.fromEntries(cyrus.services.map((s) => [s.name, s.listen]));
  assert.deepEqual(listen, {
    imap: '127.0.0.1:1143',
    pop3: '127.0.0.1:1110',
    lmtp: '127.0.0.1:12003',
    lmtpunix: 'var/lib/socket/lmtp',
    sieve: '127.0.0.1:14190',
    smmap: '127.0.0.1:12004',
  });
  for (const s of cyrus.services) {
    for (const a of resolveListen(s.listen, s.proto, '/dev/null')) {
      if (a.kind === 'tcp') assert.equal(a.host, '127.0.0.1');
    }
    assert.ok(s.cmd.join(' ').includes('-C doc/examples/dev/imapd.conf'), s.name);
  }
  assert.deepEqual(cyrus.start[0]!.cmd, [
    'cyr_devsetup',
    '-C',
    'doc/examples/dev/imapd.conf',
    '-M',
    'doc/examples/dev/cyrus.conf',
  ]);
  assert.deepEqual(cyrus.events.find((e) => e.name === 'checkpoint')!.cmd, [
    'cyr_ctl_cyrusdb',
    '-C',
    'doc/examples/dev/imapd.conf',
    '-c',
  ]);
  assert.equal(cyrus.events.find((e) => e.name === 'checkpoint')!.period, 30);
  assert.deepEqual(
    cyrus.daemons.map((d) => d.name),
    ['idled'],
  );
});
