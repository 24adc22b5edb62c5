// cyr_master tells systemd it is ready: with NOTIFY_SOCKET set it runs `systemd-notify --ready`
// (Debian package systemd) once every service listens. A python3 datagram socket plays systemd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMaster } from '../../src/master/testing.js';

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
s.settimeout(10)
print(s.recv(4096).decode().replace("\\n", " "), flush=True)
`;

test('master sends READY=1 and its pid to NOTIFY_SOCKET when ready', async () => {
  assert.equal(
    spawnSync('systemd-notify', ['--help']).error,
    undefined,
    'systemd-notify is installed (package systemd)',
  );
  const dir = mkdtempSync(join(tmpdir(), 'cyr-notify-'));
  const sock = join(dir, 'notify');
  writeFileSync(join(dir, 'recv.py'), RECEIVER);
  const py = spawn('python3', [join(dir, 'recv.py'), sock], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const got = new Promise<string>((resolve) => {
    py.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (/READY=1/.test(out)) resolve(out);
    });
    py.on('exit', () => resolve(out));
  });
  await new Promise<void>((resolve) => py.stdout.once('data', () => resolve()));
  const m = await startMaster({
    dir,
    cyrusConf: `SERVICES {\n  e cmd="echo" listen="$DIR/e.sock"\n}\n`,
    env: { NOTIFY_SOCKET: sock },
  });
  try {
    const msg = await got;
    assert.match(msg, /READY=1/);
    assert.match(msg, new RegExp(`MAINPID=${m.pid}`));
  } finally {
    py.kill();
    await m.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
