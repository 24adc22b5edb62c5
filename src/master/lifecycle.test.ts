// cyr_master as a whole process: START, ephemeral directories, pidfile lock, ready file, SIGTERM
// and SIGQUIT. Every test runs a real master (dist/src/bin/cyr_master.js) in a temp directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, childrenOf, lineClient, MASTER_JS, startMaster, until } from './testing.js';

test('START entries run in order, each waited for, before services start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'first.sh'), `#!/bin/sh\nsleep 0.2\necho first >> ${dir}/order\n`, { mode: 0o755 });
  writeFileSync(
    join(dir, 'second.sh'),
    `#!/bin/sh\necho second >> ${dir}/order\n[ -e ${dir}/e.sock ] && echo socket-exists >> ${dir}/order\nexit 0\n`,
    { mode: 0o755 },
  );
  const m2 = await startMaster({
    dir,
    cyrusConf: `START {
  first  cmd="$DIR/first.sh"
  second cmd="$DIR/second.sh"
}
SERVICES {
  e cmd="echo" listen="$DIR/e.sock"
}
`,
  });
  try {
    assert.equal(readFileSync(join(dir, 'order'), 'utf8'), 'first\nsecond\n');
    const c = await lineClient({ path: join(dir, 'e.sock') });
    assert.match(await c.next(), /^\+OK echo e \d+$/);
    await c.close();
  } finally {
    await m2.stop();
    m2.cleanup();
  }
});

test('a failing START entry stops master with a non-zero status and its exit status logged', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'fail.sh'), '#!/bin/sh\nexit 3\n', { mode: 0o755 });
  writeFileSync(join(dir, 'never.sh'), `#!/bin/sh\ntouch ${dir}/never-ran\n`, { mode: 0o755 });
  const m = await startMaster({
    dir,
    cyrusConf: `START {
  bad cmd="$DIR/fail.sh"
  after cmd="$DIR/never.sh"
}
SERVICES {
  e cmd="echo" listen="$DIR/e.sock"
}
`,
    waitReady: false,
  });
  const { code } = await m.exited;
  try {
    assert.notEqual(code, 0);
    assert.ok(
      m.lines.some((l) => /name:bad .*exited, status 3/.test(l)),
      m.lines.join('\n'),
    );
    assert.ok(m.lines.some((l) => /can't run startup bad/.test(l)));
    assert.equal(existsSync(join(dir, 'never-ran')), false);
    assert.equal(existsSync(join(dir, 'e.sock')), false);
    assert.equal(existsSync(join(dir, 'conf', 'master.pid')), false);
  } finally {
    m.cleanup();
  }
});

test('ephemeral directories are created on an empty directory', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  const m = await startMaster({
    dir,
    imapd: `proc_path: $DIR/run/proc
mboxname_lockpath: $DIR/run/lock
duplicate_db_path: $DIR/run/db/deliver.db
statuscache_db_path: $DIR/run/sc/statuscache.db
ptscache_db_path: $DIR/run/pts/ptscache.db
tls_sessions_db_path: $DIR/run/tls/tls_sessions.db
lmtpsocket: $DIR/run/sock1/lmtp
idlesocket: $DIR/run/sock2/idle
notifysocket: $DIR/run/sock3/notify
`,
    cyrusConf: `SERVICES {
  e cmd="echo" listen="$DIR/run/sock1/lmtp"
}
`,
  });
  try {
    for (const d of [
      'run/proc',
      'run/lock',
      'run/db',
      'run/sc',
      'run/pts',
      'run/tls',
      'run/sock1',
      'run/sock2',
      'run/sock3',
      'conf/socket',
    ]) {
      assert.ok(statSync(join(dir, d)).isDirectory(), `${d} exists`);
    }
    assert.equal(statSync(join(dir, 'run/sock1/lmtp')).mode & 0o777, 0o777);
    assert.ok(existsSync(join(dir, 'conf', 'master.ready')));
    assert.equal(readFileSync(join(dir, 'conf', 'master.pid'), 'utf8'), `${m.pid}\n`);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('a second master on the same pidfile is refused; a stale pidfile is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  const pidfile = join(dir, 'm.pid');
  // stale: a pid that is not running
  const dead = spawnSync('/bin/true').pid!;
  writeFileSync(pidfile, `${dead}\n`);
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {\n e cmd="echo" listen="$DIR/e.sock"\n}\n`,
    args: ['-p', pidfile],
  });
  try {
    assert.equal(readFileSync(pidfile, 'utf8'), `${m.pid}\n`);
    const second = spawnSync(
      process.execPath,
      [MASTER_JS, '-D', '-C', m.imapdConf, '-M', m.cyrusConf, '-p', pidfile],
      { encoding: 'utf8', timeout: 5000 },
    );
    assert.notEqual(second.status, 0);
    assert.match(second.stderr, new RegExp(`another cyr_master \\(pid ${m.pid}\\) is running on ${pidfile}`));
    // the first one is unharmed
    const c = await lineClient({ path: join(dir, 'e.sock') });
    assert.match(await c.next(), /^\+OK echo e/);
    await c.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
  assert.equal(existsSync(pidfile), false);
});

test('SIGTERM ends every worker, daemon and event and removes pidfile and ready file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'daemon.sh'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  writeFileSync(join(dir, 'event.sh'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {
  e cmd="echo" listen="$DIR/e.sock" prefork=2
  cat cmd="/bin/cat" listen="$DIR/cat.sock"
}
EVENTS {
  ev cmd="$DIR/event.sh"
}
DAEMON {
  d cmd="$DIR/daemon.sh"
}
`,
  });
  try {
    const c = await lineClient({ path: join(dir, 'e.sock') });
    await c.next();
    const cat = await lineClient({ path: join(dir, 'cat.sock') });
    cat.send('x\n');
    assert.equal(await cat.next(), 'x');
    await m.waitFor(/daemon d: about to run/);
    await until(() => childrenOf(m.pid).length >= 5, 3000, 'children');
    const kids = childrenOf(m.pid);
    const grandkids = kids.flatMap((k) => childrenOf(k));
    assert.ok(grandkids.length >= 1, 'the inetd command runs under a worker');
    const { code } = await m.stop();
    assert.equal(code, 0);
    for (const p of [...kids, ...grandkids]) assert.equal(alive(p), false, `pid ${p} is gone`);
    assert.equal(existsSync(join(dir, 'conf', 'master.pid')), false);
    assert.equal(existsSync(join(dir, 'conf', 'master.ready')), false);
    assert.equal(existsSync(join(dir, 'e.sock')), false);
    assert.ok(m.lines.some((l) => /All children have exited, closing down/.test(l)));
  } finally {
    m.cleanup();
  }
});

test('SIGQUIT kills every child at once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'daemon.sh'), '#!/bin/sh\ntrap "" TERM\nwhile :; do sleep 1; done\n', {
    mode: 0o755,
  });
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {\n e cmd="echo" listen="$DIR/e.sock"\n}\nDAEMON {\n d cmd="$DIR/daemon.sh"\n}\n`,
  });
  try {
    await m.waitFor(/daemon d: about to run/);
    await until(() => childrenOf(m.pid).length >= 2, 3000, 'children');
    const kids = childrenOf(m.pid);
    const t0 = Date.now();
    m.child.kill('SIGQUIT');
    await m.exited;
    assert.ok(Date.now() - t0 < 2000);
    await until(() => kids.every((p) => !alive(p)), 2000, 'children gone');
  } finally {
    m.cleanup();
  }
});

test('usage errors and -h', () => {
  const h = spawnSync(process.execPath, [MASTER_JS, '-h'], { encoding: 'utf8' });
  assert.equal(h.status, 0);
  assert.match(h.stdout, /-D +stay in the foreground.*default/);
  assert.match(h.stdout, /inetd-style/);
  const bad = spawnSync(process.execPath, [MASTER_JS, '-Q'], { encoding: 'utf8' });
  assert.equal(bad.status, 64);
  assert.match(bad.stderr, /unknown option -Q/);
  const both = spawnSync(process.execPath, [MASTER_JS, '-d', '-D'], { encoding: 'utf8' });
  assert.equal(both.status, 64);
  const noconf = spawnSync(process.execPath, [MASTER_JS, '-D', '-C', '/nonexistent/imapd.conf'], {
    encoding: 'utf8',
  });
  assert.equal(noconf.status, 78);
  assert.doesNotMatch(noconf.stderr, /\n\s+at /);
  rmSync(join(tmpdir(), 'never-created'), { force: true });
});

test('-d daemonizes (the command returns once the pidfile is held), -L collects the log, -r names the ready file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'imapd.conf'), `configdirectory: ${dir}/conf\n`);
  writeFileSync(join(dir, 'cyrus.conf'), `SERVICES {\n  e cmd="echo" listen="${dir}/e.sock"\n}\n`);
  const log = join(dir, 'master.log');
  const ready = join(dir, 'ready');
  const pidfile = join(dir, 'm.pid');
  const r = spawnSync(
    process.execPath,
    [
      MASTER_JS,
      '-d',
      '-C',
      join(dir, 'imapd.conf'),
      '-M',
      join(dir, 'cyrus.conf'),
      '-L',
      log,
      '-r',
      ready,
      '-p',
      pidfile,
    ],
    {
      encoding: 'utf8',
      timeout: 5000,
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const pid = Number(readFileSync(pidfile, 'utf8'));
  try {
    assert.ok(alive(pid));
    await until(() => existsSync(ready), 5000, 'ready file');
    const c = await lineClient({ path: join(dir, 'e.sock') });
    assert.match(await c.next(), /^\+OK echo e/);
    await c.close();
    assert.match(readFileSync(log, 'utf8'), /master\[\d+\]: ready for work/);
  } finally {
    process.kill(pid, 'SIGTERM');
    await until(() => !alive(pid), 5000, 'daemon exit');
  }
  assert.equal(existsSync(ready), false);
  assert.equal(existsSync(pidfile), false);
  assert.match(readFileSync(log, 'utf8'), /All children have exited, closing down/);
  rmSync(dir, { recursive: true, force: true });
});

test('a tool we ship runs with node when named in cmd= (cyr_info in EVENTS)', async () => {
  const m = await startMaster({
    cyrusConf: `EVENTS {\n  info cmd="cyr_info -C $DIR/imapd.conf conf-all"\n}\n`,
  });
  try {
    await m.waitFor(/process type:EVENT name:info path:cyr_info .* exited, status 0/);
    assert.ok(
      m.lines.some((l) => /^configdirectory: /.test(l)),
      "cyr_info output reached master's stderr",
    );
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('after kill -9 of master, a new master takes over pidfile, port and socket path', async () => {
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const conf = `SERVICES {\n  t cmd="echo" listen="127.0.0.1:${port}"\n  u cmd="echo" listen="$DIR/u.sock"\n}\n`;
  const m1 = await startMaster({ cyrusConf: conf });
  const c = await lineClient({ port });
  const workerPid = Number((await c.next()).split(' ')[3]);
  m1.child.kill('SIGKILL');
  await m1.exited;
  // the orphaned worker notices master is gone, stops listening and ends with its last session
  const m2 = await startMaster({ dir: m1.dir, cyrusConf: conf });
  try {
    assert.equal(readFileSync(join(m1.dir, 'conf', 'master.pid'), 'utf8'), `${m2.pid}\n`);
    const t = await lineClient({ port });
    assert.match(await t.next(), /^\+OK echo t/);
    const u = await lineClient({ path: join(m1.dir, 'u.sock') });
    assert.match(await u.next(), /^\+OK echo u/);
    await Promise.all([t.close(), u.close(), c.close()]);
    await until(() => !alive(workerPid), 3000, 'orphaned worker exit');
  } finally {
    await m2.stop();
    m2.cleanup();
  }
});

test('SIGTERM while a START entry or a wait=y daemon hangs: it is stopped and master exits 0', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'hang.sh'), `#!/bin/sh\necho $$ > ${dir}/hang.pid\nexec sleep 30\n`, {
    mode: 0o755,
  });
  for (const section of ['START', 'DAEMON']) {
    rmSync(join(dir, 'hang.pid'), { force: true });
    const m = await startMaster({
      dir,
      cyrusConf: `${section} {\n  hang cmd="$DIR/hang.sh"${section === 'DAEMON' ? ' wait=y' : ''}\n}\nSERVICES {\n  e cmd="echo" listen="$DIR/e.sock"\n}\n`,
      waitReady: false,
    });
    await until(() => existsSync(join(dir, 'hang.pid')), 3000, 'hanging child');
    await until(() => readFileSync(join(dir, 'hang.pid'), 'utf8').endsWith('\n'), 1000, 'pid written');
    const pid = Number(readFileSync(join(dir, 'hang.pid'), 'utf8'));
    const { code } = await m.stop();
    assert.equal(code, 0, `${section}: ${m.lines.join('\n')}`);
    await until(() => !alive(pid), 3000, `${section} child gone`);
    assert.equal(existsSync(join(dir, 'conf', 'master.pid')), false);
  }
  rmSync(dir, { recursive: true, force: true });
});

test('-d: a startup failure is reported by the command that was run, with its status', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  try {
    writeFileSync(join(dir, 'imapd.conf'), `# no configdirectory\n`);
    writeFileSync(join(dir, 'cyrus.conf'), `SERVICES {\n}\n`);
    const r = spawnSync(
      process.execPath,
      [MASTER_JS, '-d', '-C', join(dir, 'imapd.conf'), '-M', join(dir, 'cyrus.conf')],
      {
        encoding: 'utf8',
        timeout: 5000,
      },
    );
    assert.equal(r.status, 78);
    assert.match(r.stderr, /cyr_master: .*configdirectory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
