import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './info.js';
import { optionNames } from '../config/imapoptions.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[], servicesFile?: string): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), servicesFile });
  return { code, out, err };
}

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cyrinfo-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const IMAPD = `configdirectory: /var/lib/cyrus
partition-default: /var/spool/cyrus
allowplaintext: no
imap_allowplaintext: yes
timeout: 32m
tls_session_timeout: 1440
maxword: 64K
sasl_pwcheck_method: auxprop
`;
const CYRUS = `SERVICES {
  imap cmd="imapd" listen="imap"
  lmtp cmd="lmtpd -a" listen="lmtp"
  lmtpunix cmd="lmtpd" listen="/run/cyrus/socket/lmtp"
}
`;

test('conf prints settings that differ from the defaults, as the given service sees them', async () => {
  await withDir(async (dir) => {
    const c = join(dir, 'imapd.conf');
    writeFileSync(c, IMAPD);
    const r = await run(['-C', c, 'conf']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    // allowplaintext: no is the default, timeout 32m is the default, 1440 minutes = 24h default
    assert.deepEqual(lines, [
      'configdirectory: /var/lib/cyrus',
      'maxword: 64K',
      'partition-default: /var/spool/cyrus',
      'imap_allowplaintext: yes',
      'sasl_pwcheck_method: auxprop',
    ]);
    writeFileSync(c, IMAPD + 'serverinfo: yes\n');
    assert.ok(!(await run(['-C', c, 'conf'])).out.includes('serverinfo'), 'yes = on = the default');
    writeFileSync(c, IMAPD + 'serverinfo: no\nsieve_extensions: imapflags fileinto\n');
    const norm = await run(['-C', c, 'conf']);
    assert.ok(norm.out.includes('serverinfo: off\n'), norm.out);
    assert.ok(norm.out.includes('sieve_extensions: fileinto imap4flags\n'), norm.out);
    const imap = await run(['-C', c, '-n', 'imap', 'conf']);
    assert.ok(imap.out.includes('allowplaintext: yes\n'), imap.out);
  });
});

test('conf-all lists every option; conf-default every default', async () => {
  await withDir(async (dir) => {
    const c = join(dir, 'imapd.conf');
    writeFileSync(c, IMAPD);
    const all = await run(['-C', c, 'conf-all']);
    assert.equal(all.code, 0);
    const n = optionNames().length;
    assert.equal(all.out.trim().split('\n').length, n + 3); // plus three overflow keys
    assert.ok(all.out.includes('lmtpsocket: /var/lib/cyrus/socket/lmtp\n'));
    assert.ok(all.out.includes('allowplaintext: no\n'));
    const d = await run(['-C', c, 'conf-default']);
    assert.equal(d.out.trim().split('\n').length, n);
    assert.ok(d.out.includes('lmtpsocket: {configdirectory}/socket/lmtp\n'));
    assert.ok(d.out.includes('altnamespace: yes\n'));
    assert.ok(d.out.includes('timeout: 32m\n'));
    const s = await run(['-C', c, '-s', '3.6.0', 'conf-default']);
    assert.ok(s.out.includes('(3.10.0) maxliteral: 131072\n'), 'options newer than -s are marked');
    assert.ok(
      s.out.includes('\nacl_admin_implies_write: no\n') || s.out.startsWith('acl_admin_implies_write: no\n'),
    );
  });
});

test('conf-lint: clean file exits 0; unknown keys, bad lines and unknown service prefixes are reported', async () => {
  await withDir(async (dir) => {
    const c = join(dir, 'imapd.conf');
    const m = join(dir, 'cyrus.conf');
    writeFileSync(m, CYRUS);
    writeFileSync(c, IMAPD + 'lmtpunix_admins: postman\nreplica_sync_host: r\nsync_log_channels: replica\n');
    const clean = await run(['-C', c, '-M', m, 'conf-lint']);
    assert.equal(clean.code, 0, clean.out + clean.err);
    assert.equal(clean.out, '');

    writeFileSync(c, IMAPD + 'alowplaintext: yes\npop9_admins: x\nbad key: 1\ntimeout: later\n');
    const r = await run(['-C', c, '-M', m, 'conf-lint']);
    assert.equal(r.code, 1);
    const lines = r.out.trim().split('\n');
    assert.deepEqual(lines, [
      `error: ${c}:11: invalid option name 'bad' (a key is letters, digits, '-' and '_', followed directly by ':')`,
      `error: ${c}:12: option 'timeout' (duration) must be a duration (e.g. 90, 30s, 10m, 1h30m, 7d), not 'later'`,
      `unknown: ${c}:9: alowplaintext: yes  (did you mean 'allowplaintext'?)`,
      `unknown: ${c}:10: pop9_admins: x  (no service or program 'pop9' in ${m})`,
    ]);
  });
});

test('conf-lint reports cyrus.conf warnings and errors too', async () => {
  await withDir(async (dir) => {
    const c = join(dir, 'imapd.conf');
    const m = join(dir, 'cyrus.conf');
    writeFileSync(c, IMAPD);
    writeFileSync(m, 'EVENTS {\n  once cmd="x"\n}\n');
    const r = await run(['-C', c, '-M', m, 'conf-lint']);
    assert.equal(r.code, 1);
    assert.match(r.out, /warning: .*cyrus\.conf:2: EVENTS entry 'once' has neither period nor at/);
    writeFileSync(m, 'SERVICES {\n  bad-name cmd="x" listen=1\n}\n');
    const r2 = await run(['-C', c, '-M', m, 'conf-lint']);
    assert.equal(r2.code, 1);
    assert.match(r2.out, /error: .*cyrus\.conf:2: bad character in name/);
    writeFileSync(m, CYRUS);
    writeFileSync(c, 'configdirectory: /c\ndefaultpartition: spool\npartition-default: /s\n');
    const r3 = await run(['-C', c, '-M', m, 'conf-lint']);
    assert.equal(r3.code, 1);
    assert.match(
      r3.out,
      /^error: .*imapd\.conf: defaultpartition is 'spool' but there is no partition-spool line$/m,
    );
  });
});

test('services: every listen= resolves, missing names print the /etc/services line', async () => {
  await withDir(async (dir) => {
    const c = join(dir, 'imapd.conf');
    const m = join(dir, 'cyrus.conf');
    const s = join(dir, 'services');
    writeFileSync(c, IMAPD);
    writeFileSync(m, CYRUS);
    writeFileSync(s, 'imap2 143/tcp imap\n');
    const r = await run(['-C', c, '-M', m, 'services'], s);
    assert.equal(r.code, 1);
    assert.match(r.out, /^ok {7}imap\tlisten=imap\t\*:143$/m);
    assert.match(r.out, /^MISSING {2}lmtp\tlisten=lmtp\t/m);
    assert.match(r.out, /^ok {7}lmtpunix\t.*unix:\/run\/cyrus\/socket\/lmtp$/m);
    assert.match(r.out, /add these lines to .*services.*\nlmtp\t+2003\/tcp\n$/);
    writeFileSync(s, 'imap2 143/tcp imap\nlmtp 2003/tcp\n');
    assert.equal((await run(['-C', c, '-M', m, 'services'], s)).code, 0);
  });
});

test('proc: lists live connections from proc_path and skips dead pids', async () => {
  await withDir(async (dir) => {
    const proc = join(dir, 'proc');
    mkdirSync(proc);
    const c = join(dir, 'imapd.conf');
    writeFileSync(c, `configdirectory: ${dir}\nproc_path: ${proc}\n`);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(join(proc, String(process.pid)), 'imap\tlocalhost [127.0.0.1]\tfred\tuser.fred\tFetch\n');
    writeFileSync(join(proc, String(dead)), 'pop3\thost\tx\t\t\n');
    writeFileSync(join(proc, 'not-a-pid'), 'junk\n');
    // our workers serve many connections: <pid>.<n> files, as src/master/procfile.ts writes them
    writeFileSync(join(proc, `${process.pid}.2`), 'pop3\tlocalhost [127.0.0.1]\tjane\tuser.jane\t\n');
    writeFileSync(join(proc, `${dead}.1`), 'imap\thost\tx\t\t\n');
    const r = await run(['-C', c, 'proc']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      `${process.pid} imap localhost [127.0.0.1] fred user.fred Fetch\n` +
        `${process.pid} pop3 localhost [127.0.0.1] jane user.jane\n`,
    );
    // default proc_path is {configdirectory}/proc
    writeFileSync(c, `configdirectory: ${dir}\n`);
    assert.equal((await run(['-C', c, 'proc'])).out, r.out);
  });
});

test('usage: -h prints help and exits 0; bad usage exits 64; config errors exit 78 without a stack', async () => {
  const h = await run(['-h']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^usage: cyr_info/);
  for (const bad of [[], ['frob'], ['-x', 'conf'], ['conf', 'extra'], ['-C'], ['-s', 'banana', 'conf']]) {
    const r = await run(bad);
    assert.equal(r.code, 64, bad.join(' '));
    assert.match(r.err, /^cyr_info: .*\nusage: cyr_info/);
  }
  const r = await run(['-C', '/nonexistent/imapd.conf', 'conf']);
  assert.equal(r.code, 78);
  assert.equal(r.err, 'cyr_info: cannot read configuration file /nonexistent/imapd.conf: no such file\n');
});
