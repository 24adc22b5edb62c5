// cyr_master EVENTS and DAEMON supervision, and SIGHUP reloads. EVENTS use the testing aid
// CYRUS_TS_EVENT_MINUTE_MS so that a `period` minute lasts a fraction of a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, lineClient, sleep, startMaster, until } from './testing.js';

function script(dir: string, name: string, body: string): void {
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function count(file: string, re: RegExp): number {
  if (!existsSync(file)) return 0;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => re.test(l)).length;
}

test('EVENTS: period runs at load and then every period; no period runs once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  script(dir, 'tick.sh', `echo "$CYRUS_SERVICE" >> ${dir}/ticks`);
  const t0 = Date.now();
  const m = await startMaster({
    dir,
    cyrusConf: `EVENTS {
  every cmd="$DIR/tick.sh" period=1
  once  cmd="$DIR/tick.sh"
}
`,
    env: { CYRUS_TS_EVENT_MINUTE_MS: '100' },
  });
  try {
    await until(() => count(join(dir, 'ticks'), /^every$/) >= 1, 1000, 'first run at load');
    await sleep(1200 - (Date.now() - t0));
    const n = count(join(dir, 'ticks'), /^every$/);
    const elapsed = Date.now() - t0;
    // runs at 0, 100, 200 ... ms after load: at most elapsed/100 + 1 (never piled up), and
    // clearly more than once even on a loaded machine
    assert.ok(n >= 4 && n <= Math.floor(elapsed / 100) + 1, `ran ${n} times in ${elapsed} ms`);
    assert.equal(count(join(dir, 'ticks'), /^once$/), 1);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('EVENTS: a run still going is not started a second time', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  script(dir, 'slow.sh', `echo start >> ${dir}/runs\nsleep 0.7\necho end >> ${dir}/runs`);
  const m = await startMaster({
    dir,
    cyrusConf: `EVENTS {\n  slow cmd="$DIR/slow.sh" period=1\n}\n`,
    env: { CYRUS_TS_EVENT_MINUTE_MS: '200' },
  });
  try {
    await m.waitFor(/event slow: previous run \(pid \d+\) still running, not started again/, 2000);
    await until(() => count(join(dir, 'runs'), /^start$/) >= 2, 3000, 'second run');
    await until(() => count(join(dir, 'runs'), /^end$/) >= 2, 3000, 'second end');
    const lines = readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n');
    // strictly alternating: never two starts without an end between them
    lines.forEach((l, i) => assert.equal(l, i % 2 === 0 ? 'start' : 'end', lines.join(',')));
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('DAEMON: restarted when it dies; wait=y daemon must say ok on fd 3 before services start', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  script(dir, 'short.sh', `echo "$$ $CYRUS_ISDAEMON" >> ${dir}/daemon-pids\nsleep 0.3`);
  script(
    dir,
    'waiter.sh',
    `sleep 0.2\necho waiter-ready >> ${dir}/order\nprintf 'ok\\r\\n' >&3\nexec sleep 30`,
  );
  script(dir, 'start.sh', `echo start >> ${dir}/order`);
  const m = await startMaster({
    dir,
    cyrusConf: `START {
  s cmd="$DIR/start.sh"
}
SERVICES {
  e cmd="echo" listen="$DIR/e.sock"
}
DAEMON {
  short  cmd="$DIR/short.sh"
  waiter cmd="$DIR/waiter.sh" wait=y
}
`,
  });
  try {
    assert.equal(readFileSync(join(dir, 'order'), 'utf8'), 'start\nwaiter-ready\n');
    const ready = m.lines.findIndex((l) => /daemon waiter is ready/.test(l));
    const firstWorker = m.lines.findIndex((l) => /service e: about to run/.test(l));
    assert.ok(ready >= 0 && ready < firstWorker, 'wait=y daemon ready before workers start');
    await until(() => count(join(dir, 'daemon-pids'), /./) >= 3, 3000, 'restarts');
    const lines = readFileSync(join(dir, 'daemon-pids'), 'utf8').trim().split('\n');
    assert.equal(new Set(lines).size, lines.length, 'a new process each time');
    assert.ok(
      lines.every((l) => l.endsWith(' 1')),
      'CYRUS_ISDAEMON=1',
    );
    assert.ok(m.lines.some((l) => /process type:DAEMON name:short .*exited, status 0/.test(l)));
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('DAEMON wait=y that does not say ok stops master', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  script(dir, 'bad.sh', `printf 'nope\\n' >&3\nsleep 5`);
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {\n  e cmd="echo" listen="$DIR/e.sock"\n}\nDAEMON {\n  bad cmd="$DIR/bad.sh" wait=y\n}\n`,
    waitReady: false,
  });
  try {
    const { code } = await m.exited;
    assert.notEqual(code, 0);
    assert.ok(
      m.lines.some((l) => /daemon bad \(wait=y\) said "nope\\n"/.test(l)),
      m.lines.join('\n'),
    );
  } finally {
    m.cleanup();
  }
});

test('SIGHUP adds a service, removes one and keeps open connections of unchanged and removed ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  const conf1 = `SERVICES {
  keep cmd="echo" listen="$DIR/keep.sock"
  gone cmd="echo" listen="$DIR/gone.sock"
}
`;
  const m = await startMaster({ dir, cyrusConf: conf1 });
  try {
    const k = await lineClient({ path: join(dir, 'keep.sock') });
    const keepPid = Number((await k.next()).split(' ')[3]);
    const g = await lineClient({ path: join(dir, 'gone.sock') });
    const gonePid = Number((await g.next()).split(' ')[3]);
    writeFileSync(
      m.cyrusConf,
      `SERVICES {
  keep cmd="echo" listen="${dir}/keep.sock"
  added cmd="echo" listen="${dir}/added.sock"
}
`,
    );
    const from = m.lines.length;
    m.child.kill('SIGHUP');
    await m.waitFor(/Services reconfigured/, 5000, from);
    await m.waitFor(/service added: listening on/, 5000, from);
    const a = await lineClient({ path: join(dir, 'added.sock') });
    assert.match(await a.next(), /^\+OK echo added/);
    // the existing connections still work
    k.send('after hup\n');
    assert.equal(await k.next(), 'after hup');
    g.send('still open\n');
    assert.equal(await g.next(), 'still open');
    // the unchanged service kept its worker; the removed one takes no new connections
    assert.ok(alive(keepPid));
    const k2 = await lineClient({ path: join(dir, 'keep.sock') });
    assert.equal(Number((await k2.next()).split(' ')[3]), keepPid);
    await assert.rejects(lineClient({ path: join(dir, 'gone.sock') }));
    // the removed service's worker exits once its last session ends
    await g.close();
    await until(() => !alive(gonePid), 3000, 'drained worker exit');
    await Promise.all([k.close(), k2.close(), a.close()]);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('a built-in DAEMON runs in a worker process, is restarted when it ends and stopped at shutdown', async () => {
  const m = await startMaster({
    cyrusConf: `DAEMON {\n  nap cmd="sleepd --exit-after 300"\n  rest cmd="sleepd" wait=y\n}\n`,
  });
  try {
    await m.waitFor(/nap\[\d+\]: sleepd running as nap/);
    await m.waitFor(/process type:DAEMON name:nap .* exited, status 0/, 3000);
    await until(() => m.lines.filter((l) => /daemon nap: about to run/.test(l)).length >= 2, 3000, 'restart');
    assert.ok(m.lines.some((l) => /daemon rest is ready/.test(l)));
    const rest = Number(
      /daemon rest: about to run sleepd \(pid (\d+)\)/.exec(
        m.lines.find((l) => /daemon rest: about/.test(l))!,
      )![1],
    );
    assert.ok(alive(rest));
    const { code } = await m.stop();
    assert.equal(code, 0);
    assert.equal(alive(rest), false);
  } finally {
    m.cleanup();
  }
});

test('maxforkrate limits how fast a crashing service is respawned', async () => {
  const m = await startMaster({
    cyrusConf: `SERVICES {\n  bad cmd="echo --fail-init" listen="$DIR/bad.sock" maxforkrate=2\n}\n`,
    env: { CYRUS_TS_BACKOFF_MS: '60000' },
    waitReady: false,
  });
  const t0 = Date.now();
  try {
    await m.waitFor(/too many failures for service bad/, 8000);
    const spawns = m.lines.filter((l) => /service bad: about to run/.test(l)).length;
    assert.equal(spawns, 5);
    // 5 forks at no more than 2 per second take at least 2 s
    assert.ok(Date.now() - t0 >= 1900, `took ${Date.now() - t0} ms`);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('SIGHUP after an imapd.conf change hangs up daemons, which are restarted', async () => {
  const m = await startMaster({ cyrusConf: `DAEMON {\n  rest cmd="sleepd"\n}\n` });
  try {
    const first = await m.waitFor(/daemon rest: about to run sleepd \(pid (\d+)\)/);
    writeFileSync(m.imapdConf, readFileSync(m.imapdConf, 'utf8') + 'debug: yes\n');
    const from = m.lines.length;
    m.child.kill('SIGHUP');
    const second = await m.waitFor(/daemon rest: about to run sleepd \(pid (\d+)\)/, 5000, from);
    assert.notEqual(second[1], first[1]);
    assert.equal(alive(Number(first[1])), false);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('SIGHUP: a changed listen= moves the service; a broken cyrus.conf is refused and nothing changes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  const m = await startMaster({ dir, cyrusConf: `SERVICES {\n  s cmd="echo" listen="$DIR/a.sock"\n}\n` });
  try {
    const old = await lineClient({ path: join(dir, 'a.sock') });
    await old.next();
    writeFileSync(m.cyrusConf, `SERVICES {\n  s cmd="echo" listen="${dir}/b.sock" prefork=2\n}\n`);
    let from = m.lines.length;
    m.child.kill('SIGHUP');
    await m.waitFor(/service s changed: old workers finish their sessions/, 5000, from);
    await m.waitFor(/service s: listening on .*b\.sock/, 5000, from);
    const b = await lineClient({ path: join(dir, 'b.sock') });
    assert.match(await b.next(), /^\+OK echo s/);
    await assert.rejects(lineClient({ path: join(dir, 'a.sock') }));
    old.send('on the old socket\n');
    assert.equal(await old.next(), 'on the old socket');
    // a fatal error in cyrus.conf: logged, the running configuration stays
    writeFileSync(m.cyrusConf, `SERVICES {\n  bad-name cmd="echo" listen="${dir}/c.sock"\n}\n`);
    from = m.lines.length;
    m.child.kill('SIGHUP');
    await m.waitFor(/configuration not reloaded: /, 5000, from);
    const b2 = await lineClient({ path: join(dir, 'b.sock') });
    assert.match(await b2.next(), /^\+OK echo s/);
    await Promise.all([old.close(), b.close(), b2.close()]);
  } finally {
    await m.stop();
    m.cleanup();
  }
});
