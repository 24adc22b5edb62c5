// cyr_master SERVICES: connections through master's listeners to worker processes, proc files,
// crash replacement and back-off, maxchild queueing, listen= forms, inetd-style external commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, lineClient, sleep, startMaster, until } from './testing.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('connections are served by workers on TCP and unix listeners, with proc files', async () => {
  const m = await startMaster({
    cyrusConf: `SERVICES {
  tcp  cmd="echo" listen="127.0.0.1:0" prefork=2
  unix cmd="cyr_echo -x" listen="$DIR/sock/echo"
}
`,
  });
  try {
    const port = m.port('tcp');
    const a = await lineClient({ port });
    const greet = await a.next();
    const [, pid] = /^\+OK echo tcp (\d+)$/.exec(greet) ?? [];
    assert.ok(pid, greet);
    a.send('hello\r\n');
    assert.equal(await a.next(), 'hello');
    const procDir = join(m.dir, 'conf', 'proc');
    const files = readdirSync(procDir);
    assert.equal(files.length, 1);
    assert.match(files[0]!, new RegExp(`^${pid}\\.\\d+$`));
    assert.equal(readFileSync(join(procDir, files[0]!), 'utf8'), 'tcp\t[127.0.0.1]\t\t\t\n');
    // the service records the user through procEntryOf(socket)
    a.send('USER fred\r\n');
    assert.equal(await a.next(), 'USER fred');
    assert.equal(readFileSync(join(procDir, files[0]!), 'utf8'), 'tcp\t[127.0.0.1]\tfred\t\tUSER\n');
    const u = await lineClient({ path: join(m.dir, 'sock', 'echo') });
    assert.match(await u.next(), /^\+OK echo unix \d+$/);
    u.send('x\n');
    assert.equal(await u.next(), 'x');
    assert.equal(readdirSync(procDir).length, 2);
    await a.close();
    await u.close();
    await until(() => readdirSync(procDir).length === 0, 2000, 'proc files removed');
    // many connections at once, spread over both workers by the kernel or not, all served
    const many = await Promise.all(Array.from({ length: 40 }, () => lineClient({ port })));
    const pids = new Set<string>();
    for (const c of many) pids.add((await c.next()).split(' ')[3]!);
    assert.ok(pids.size >= 1 && pids.size <= 2);
    await Promise.all(many.map((c) => c.close()));
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('a worker killed with SIGKILL is logged and replaced', async () => {
  const m = await startMaster({ cyrusConf: `SERVICES {\n  e cmd="echo" listen="$DIR/e.sock"\n}\n` });
  try {
    const c = await lineClient({ path: join(m.dir, 'e.sock') });
    const pid = Number((await c.next()).split(' ')[3]);
    process.kill(pid, 'SIGKILL');
    await m.waitFor(new RegExp(`pid:${pid} signaled to death by signal 9 \\(SIGKILL\\)`));
    await m.waitFor(/terminated abnormally/);
    const c2 = await lineClient({ path: join(m.dir, 'e.sock') });
    const pid2 = Number((await c2.next()).split(' ')[3]);
    assert.notEqual(pid2, pid);
    assert.ok(alive(pid2));
    await c2.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('a crash-looping service is backed off while another service keeps answering', async () => {
  const m = await startMaster({
    cyrusConf: `SERVICES {
  bad  cmd="echo --fail-init" listen="$DIR/bad.sock"
  good cmd="echo" listen="$DIR/good.sock"
}
`,
    env: { CYRUS_TS_BACKOFF_MS: '1500' },
  });
  try {
    await m.waitFor(/too many failures for service bad, backing off/);
    const spawnsAt = (): number => m.lines.filter((l) => /service bad: about to run/.test(l)).length;
    assert.equal(spawnsAt(), 5);
    // during the back-off: no new worker for bad, good still serves
    for (let i = 0; i < 3; i++) {
      const g = await lineClient({ path: join(m.dir, 'good.sock') });
      assert.match(await g.next(), /^\+OK echo good/);
      await g.close();
      await sleep(200);
    }
    assert.equal(spawnsAt(), 5);
    // after the pause it is retried
    await m.waitFor(/service bad: back-off over, retrying/, 3000);
    await until(() => spawnsAt() > 5, 2000, 'retry');
    assert.ok(m.lines.some((l) => /name:bad .*exited, status 70/.test(l)));
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('maxchild: the connection beyond the cap waits in the queue and is served when one closes', async () => {
  const m = await startMaster({
    cyrusConf: `SERVICES {\n  e cmd="echo" listen="127.0.0.1:0" prefork=3 maxchild=2\n}\n`,
  });
  try {
    const port = m.port('e');
    // maxchild also caps the workers
    const workers = m.lines.filter((l) => /service e: about to run/.test(l)).length;
    assert.equal(workers, 2);
    const a = await lineClient({ port });
    await a.next();
    const b = await lineClient({ port });
    await b.next();
    const c = await lineClient({ port }); // connected (kernel queue) but not accepted
    await assert.rejects(c.next(400), /timeout/);
    await a.close();
    assert.match(await c.next(3000), /^\+OK echo e/);
    c.send('still here\n');
    assert.equal(await c.next(), 'still here');
    await Promise.all([b.close(), c.close()]);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('listen= by service name through the services file, and an unknown name disables only that service', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(join(dir, 'services'), `# test services\nmyecho\t${port}/tcp\t\t# echo for tests\n`);
  const m2 = await startMaster({
    dir,
    cyrusConf: `SERVICES {
  named cmd="echo" listen="127.0.0.1:myecho"
  wrong cmd="echo" listen="nosuchservice"
  plain cmd="echo" listen="$DIR/p.sock"
}
`,
    env: { CYRUS_TS_SERVICES_FILE: join(dir, 'services') },
  });
  try {
    const c = await lineClient({ port });
    assert.match(await c.next(), /^\+OK echo named/);
    await c.close();
    assert.ok(
      m2.lines.some((l) => /unable to bind service wrong .*nosuchservice.*service disabled/.test(l)),
      m2.lines.join('\n'),
    );
    const p = await lineClient({ path: join(dir, 'p.sock') });
    assert.match(await p.next(), /^\+OK echo plain/);
    await p.close();
  } finally {
    await m2.stop();
    m2.cleanup();
  }
});

test('an external command in SERVICES runs inetd-style, one process per connection', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-master-'));
  writeFileSync(
    join(dir, 'hello.sh'),
    '#!/bin/sh\necho "hello from $$ as $CYRUS_SERVICE"\nread line\necho "you said $line"\n',
    { mode: 0o755 },
  );
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {\n  hi cmd="$DIR/hello.sh" listen="127.0.0.1:0"\n}\n`,
  });
  try {
    const port = m.port('hi');
    const a = await lineClient({ port });
    const b = await lineClient({ port });
    const la = await a.next();
    const lb = await b.next();
    assert.match(la, /^hello from \d+ as hi$/);
    assert.notEqual(la, lb);
    a.send('one\n');
    assert.equal(await a.next(), 'you said one');
    b.send('two\n');
    assert.equal(await b.next(), 'you said two');
    await Promise.all([a.close(), b.close()]);
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('maxfds is applied to workers through prlimit', async () => {
  const m = await startMaster({
    cyrusConf: `SERVICES {\n  e cmd="echo" listen="$DIR/e.sock" maxfds=300\n}\n`,
  });
  try {
    const c = await lineClient({ path: join(m.dir, 'e.sock') });
    const pid = Number((await c.next()).split(' ')[3]);
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    assert.match(limits, /Max open files\s+300\s+300/);
    await c.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('SIGHUP after an imapd.conf change: fresh workers take new connections, old sessions go on', async () => {
  const m = await startMaster({ cyrusConf: `SERVICES {\n  e cmd="echo" listen="$DIR/e.sock"\n}\n` });
  try {
    const old = await lineClient({ path: join(m.dir, 'e.sock') });
    const oldPid = Number((await old.next()).split(' ')[3]);
    writeFileSync(m.imapdConf, readFileSync(m.imapdConf, 'utf8') + 'debug: yes\n');
    const from = m.lines.length;
    m.child.kill('SIGHUP');
    await m.waitFor(/service e: imapd.conf changed, recycling workers/, 3000, from);
    await m.waitFor(/service e: about to run/, 3000, from);
    let fresh = oldPid;
    for (let i = 0; i < 50 && fresh === oldPid; i++) {
      const c = await lineClient({ path: join(m.dir, 'e.sock') });
      fresh = Number((await c.next()).split(' ')[3]);
      await c.close();
      if (fresh === oldPid) await sleep(100);
    }
    assert.notEqual(fresh, oldPid);
    old.send('old session\n');
    assert.equal(await old.next(), 'old session');
    await old.close();
    await until(() => !alive(oldPid), 3000, 'old worker exit after its last session');
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('a wildcard listen= binds IPv4 and IPv6; localhost:port binds every address of localhost', async () => {
  const lport = await freePort();
  const m = await startMaster({
    cyrusConf: `SERVICES {\n  any cmd="echo" listen="0"\n  v6 cmd="echo" listen="[::1]:0" proto=tcp6\n  lh cmd="echo" listen="localhost:${lport}"\n}\n`,
  });
  try {
    const line = m.lines.find((l) => /service any: bound/.test(l))!;
    assert.match(line, /bound 0\.0\.0\.0:(\d+), \[::\]:\1$/);
    const port = m.port('any');
    for (const host of ['127.0.0.1', '::1']) {
      const c = await lineClient({ port, host });
      assert.match(await c.next(), /^\+OK echo any/);
      await c.close();
    }
    const { lookup } = await import('node:dns/promises');
    const addrs = await lookup('localhost', { all: true });
    const lh = m.lines.find((l) => /service lh: bound/.test(l))!;
    for (const { address, family } of addrs) {
      assert.ok(lh.includes(family === 6 ? `[${address}]:${lport}` : `${address}:${lport}`), lh);
      const c = await lineClient({ port: lport, host: address });
      assert.match(await c.next(), /^\+OK echo lh/);
      await c.close();
    }
    const v6 = Number(/service v6: bound \[::1\]:(\d+)/.exec(m.lines.join('\n'))![1]);
    const c = await lineClient({ port: v6, host: '::1' });
    assert.match(await c.next(), /^\+OK echo v6/);
    await c.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});

test('-U uses: a worker is replaced after that many connections, its sessions go on', async () => {
  const m = await startMaster({ cyrusConf: `SERVICES {\n  e cmd="echo -U 2" listen="$DIR/e.sock"\n}\n` });
  try {
    const a = await lineClient({ path: join(m.dir, 'e.sock') });
    const pid1 = (await a.next()).split(' ')[3];
    const b = await lineClient({ path: join(m.dir, 'e.sock') });
    assert.equal((await b.next()).split(' ')[3], pid1);
    await m.waitFor(new RegExp(`pid ${pid1}: max uses reached, replacing it`));
    const c = await lineClient({ path: join(m.dir, 'e.sock') });
    const pid3 = (await c.next()).split(' ')[3];
    assert.notEqual(pid3, pid1);
    a.send('a\n');
    assert.equal(await a.next(), 'a');
    await Promise.all([a.close(), b.close()]);
    await until(() => !alive(Number(pid1)), 3000, 'retired worker exit');
    assert.ok(!m.lines.some((l) => /terminated abnormally/.test(l)));
    await c.close();
  } finally {
    await m.stop();
    m.cleanup();
  }
});
