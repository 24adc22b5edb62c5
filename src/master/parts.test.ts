// Small parts of cyr_master without processes: proc files, the `at=` clock, fork-rate and crash
// windows, program mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openProcEntry, parseProcFile, removeProcEntriesOf } from './procfile.js';
import { nextAt } from './events.js';
import { CrashWindow, describeExit, ForkRate, isFailure } from './supervise.js';
import { resolveProgram } from './program.js';

test('proc files: one line per connection, updated, removed; parsed back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cyr-proc-'));
  try {
    const procDir = join(dir, 'proc'); // created on first use
    const a = openProcEntry(procDir, { service: 'imap', host: '[192.0.2.1]' });
    const b = openProcEntry(procDir, { service: 'imap', host: 'unix' });
    assert.notEqual(a.path, b.path);
    assert.match(a.path, new RegExp(`/${process.pid}\\.\\d+$`));
    assert.equal(readFileSync(a.path, 'utf8'), 'imap\t[192.0.2.1]\t\t\t\n');
    a.update({ user: 'fred', mailbox: 'user.fred', command: 'Select' });
    a.update({ command: 'Fetch\tevil\nline' });
    const text = readFileSync(a.path, 'utf8');
    assert.equal(text, 'imap\t[192.0.2.1]\tfred\tuser.fred\tFetch evil line\n');
    // an update that changes nothing does not rewrite the file
    unlinkSync(a.path);
    a.update({ user: 'fred', command: 'Fetch\tevil\nline' });
    assert.equal(existsSync(a.path), false);
    a.update({ command: 'Store' });
    // rewritten in place, never truncated: a shorter line is padded with spaces before its newline
    const shorter = readFileSync(a.path, 'utf8');
    assert.equal(shorter, 'imap\t[192.0.2.1]\tfred\tuser.fred\tStore' + ' '.repeat(10) + '\n');
    assert.equal(parseProcFile('1.1', shorter)?.command, 'Store');
    a.update({ command: 'Fetch\tevil\nline' });
    assert.equal(readFileSync(a.path, 'utf8'), text);
    a.update({ command: 'A much longer command than before' });
    assert.equal(
      parseProcFile('1.1', readFileSync(a.path, 'utf8'))?.command,
      'A much longer command than before',
    );
    a.update({ command: 'Fetch\tevil\nline' });
    assert.equal(readFileSync(a.path, 'utf8').split('\n').length, 2);
    const name = a.path.slice(procDir.length + 1);
    assert.deepEqual(parseProcFile(name, text), {
      pid: process.pid,
      file: name,
      service: 'imap',
      host: '[192.0.2.1]',
      user: 'fred',
      mailbox: 'user.fred',
      command: 'Fetch evil line',
    });
    assert.equal(parseProcFile('1234', 'pop3\thost\t\t\t\n')?.pid, 1234);
    assert.equal(parseProcFile('x.1', ''), null);
    a.remove();
    a.remove();
    a.update({ user: 'after removal' });
    assert.deepEqual(readdirSync(procDir), [b.path.slice(procDir.length + 1)]);
    writeFileSync(join(procDir, '999999.3'), 'x\n');
    writeFileSync(join(procDir, '9999990.1'), 'y\n');
    removeProcEntriesOf(procDir, 999999);
    assert.deepEqual(readdirSync(procDir).sort(), [b.path.slice(procDir.length + 1), '9999990.1'].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('at=HHMM: the next local occurrence, today when still ahead, else tomorrow', () => {
  const base = new Date(2026, 5, 10, 3, 30, 0, 0).getTime(); // 10 June, 03:30 local
  const today = new Date(nextAt(base, 4, 0));
  assert.deepEqual([today.getDate(), today.getHours(), today.getMinutes()], [10, 4, 0]);
  const tomorrow = new Date(nextAt(base, 3, 30)); // exactly now: the next one
  assert.deepEqual([tomorrow.getDate(), tomorrow.getHours(), tomorrow.getMinutes()], [11, 3, 30]);
  const earlier = new Date(nextAt(base, 0, 5));
  assert.deepEqual([earlier.getDate(), earlier.getHours(), earlier.getMinutes()], [11, 0, 5]);
});

test('fork rate and crash window', () => {
  const r = new ForkRate(2);
  assert.ok(r.allow(0));
  r.record(0);
  r.record(10);
  assert.equal(r.allow(500), false);
  assert.ok(r.allow(1000));
  assert.ok(new ForkRate(0).allow(0));
  const w = new CrashWindow();
  for (let i = 0; i < 4; i++) assert.equal(w.fail(i * 100), false);
  assert.equal(w.fail(11_000), false, 'old failures fall out of the 10 s window');
  for (let i = 1; i < 4; i++) assert.equal(w.fail(11_000 + i), false);
  assert.equal(w.fail(11_004), true);
  assert.ok(w.inBackoff(11_005));
  assert.equal(isFailure(0, null), false);
  assert.equal(isFailure(75, null), false);
  assert.equal(isFailure(1, null), true);
  assert.equal(isFailure(null, 'SIGSEGV'), true);
  assert.equal(describeExit(null, 'SIGKILL'), 'signaled to death by signal 9 (SIGKILL)');
  assert.equal(describeExit(3, null), 'exited, status 3');
});

test('program mapping: built-in services and daemons, shipped tools, external commands', () => {
  assert.deepEqual(resolveProgram('/usr/lib/cyrus/bin/imapd'), { kind: 'service', name: 'imapd' });
  assert.deepEqual(resolveProgram('cyr_echo'), { kind: 'service', name: 'echo' });
  assert.deepEqual(resolveProgram('idled'), { kind: 'daemon', name: 'idled' });
  const info = resolveProgram('cyr_info');
  assert.equal(info.kind, 'tool');
  assert.match((info as { script: string }).script, /dist\/src\/bin\/cyr_info\.js$/);
  const sh = resolveProgram('sh');
  assert.equal(sh.kind, 'external');
  assert.match((sh as { path: string }).path, /^\/.*\/sh$/, 'looked up in PATH');
  assert.equal(resolveProgram('/bin/sh').kind, 'external');
  assert.equal(resolveProgram('no-such-program-here').kind, 'missing');
  assert.equal(resolveProgram('/nonexistent/prog').kind, 'missing');
});
