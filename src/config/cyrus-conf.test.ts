import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './api.js';
import { loadCyrusConf, parseCyrusConf } from './cyrus-conf.js';

function fatal(text: string): ConfigError {
  try {
    parseCyrusConf(text, 'c.conf');
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e;
  }
  assert.fail('expected ConfigError');
}

const FULL = `# a full file
START {
  recover cmd="ctl_cyrusdb -r"
}

SERVICES {
  imap   cmd="imapd -U 30" listen="imap" prefork=2 maxchild=100
  lmtpunix cmd="lmtpd" listen="/run/cyrus/socket/lmtp" maxchild=20   # trailing comment
  notify cmd="notifyd" listen="/run/cyrus/socket/notify" proto=udp prefork=3
  mupdate cmd="mupdate -m" listen=3905 babysit=1
}

EVENTS {
  checkpoint cmd="ctl_cyrusdb -c" period=30
  tlsprune cmd="tls_prune" at=0400
}

DAEMON {
  idled cmd="idled"
  squat cmd="squatter -R" wait=y maxforkrate=3 maxfds=512
}
`;

test('a full file: every section, defaults and effective values', () => {
  const c = parseCyrusConf(FULL, 'c.conf');
  assert.deepEqual(c.start, [{ name: 'recover', cmd: ['ctl_cyrusdb', '-r'], line: 3 }]);
  assert.equal(c.services.length, 4);
  assert.deepEqual(c.services[0], {
    name: 'imap',
    cmd: ['imapd', '-U', '30'],
    listen: 'imap',
    proto: 'tcp',
    prefork: 2,
    maxchild: 100,
    babysit: false,
    maxforkrate: 0,
    maxfds: 0,
    line: 7,
  });
  assert.equal(c.services[1]!.listen, '/run/cyrus/socket/lmtp');
  assert.equal(c.services[1]!.maxchild, 20);
  assert.equal(c.services[1]!.prefork, 0);
  // UDP: at most one worker
  assert.equal(c.services[2]!.proto, 'udp');
  assert.equal(c.services[2]!.prefork, 1);
  assert.equal(c.services[2]!.maxchild, 1);
  // babysit raises prefork to 1 and maxforkrate defaults to 10
  assert.equal(c.services[3]!.listen, '3905');
  assert.equal(c.services[3]!.babysit, true);
  assert.equal(c.services[3]!.prefork, 1);
  assert.equal(c.services[3]!.maxforkrate, 10);
  assert.equal(c.services[3]!.maxchild, -1);
  assert.deepEqual(c.events, [
    { name: 'checkpoint', cmd: ['ctl_cyrusdb', '-c'], period: 30, at: null, line: 14 },
    { name: 'tlsprune', cmd: ['tls_prune'], period: 1440, at: 400, line: 15 },
  ]);
  assert.deepEqual(c.daemons, [
    { name: 'idled', cmd: ['idled'], wait: false, maxforkrate: 10, maxfds: 0, line: 19 },
    { name: 'squat', cmd: ['squatter', '-R'], wait: true, maxforkrate: 3, maxfds: 512, line: 20 },
  ]);
  assert.deepEqual(c.warnings, []);
});

test('# anywhere truncates the line, even inside quotes (then the quote is missing)', () => {
  const e = fatal('SERVICES {\n  imap cmd="imapd # x" listen=imap\n}\n');
  assert.equal(e.line, 2);
  assert.match(e.message, /^c\.conf:2: missing quote in argument 'cmd' of 'imap'/);
});

test('bad character in name is fatal', () => {
  const e = fatal('SERVICES {\n  imap-ssl cmd="imapd -s" listen=imaps\n}\n');
  assert.match(e.message, /^c\.conf:2: bad character in name: 'imap-ssl'/);
  assert.match(fatal('START {\n  re_cover cmd="x"\n}\n').message, /c\.conf:2: bad character in name/);
});

test('bad character in argument is fatal', () => {
  assert.match(
    fatal('SERVICES {\n  imap cmd="imapd" listen = imap\n}\n').message,
    /^c\.conf:2: bad character in argument of 'imap'/,
  );
  assert.match(
    fatal('SERVICES {\n  imap cmd="imapd" max-child=3 listen=imap\n}\n').message,
    /bad character in argument/,
  );
});

test('duplicate names across SERVICES and DAEMON are fatal', () => {
  const e = fatal('SERVICES {\n imap cmd="imapd" listen=imap\n}\nDAEMON {\n imap cmd="idled"\n}\n');
  assert.equal(e.line, 5);
  assert.match(e.message, /multiple entries for service 'imap' \(first on line 2\)/);
  // the same name in START and EVENTS is fine (Debian has delprune in both)
  const c = parseCyrusConf(
    'START {\n delprune cmd="x"\n}\nEVENTS {\n delprune cmd="x" at=0401\n}\n',
    'c.conf',
  );
  assert.equal(c.start.length + c.events.length, 2);
});

test('SERVICES without cmd or listen, START/EVENTS/DAEMON without cmd: fatal', () => {
  assert.match(
    fatal('SERVICES {\n imap listen=imap\n}\n').message,
    /c\.conf:2: SERVICES entry 'imap' has no cmd/,
  );
  assert.match(
    fatal('SERVICES {\n imap cmd="imapd"\n}\n').message,
    /c\.conf:2: SERVICES entry 'imap' has no listen/,
  );
  assert.match(fatal('START {\n recover\n}\n').message, /START entry 'recover' has no cmd/);
  assert.match(fatal('EVENTS {\n x cmd="" period=3\n}\n').message, /EVENTS entry 'x' has no cmd/);
  assert.match(fatal('DAEMON {\n idled wait=y\n}\n').message, /DAEMON entry 'idled' has no cmd/);
});

test('more than 64 arguments is fatal; 64 is fine', () => {
  const args = (n: number) => Array.from({ length: n - 2 }, (_, i) => `x${i}=1`).join(' ');
  const ok = parseCyrusConf(`SERVICES {\n s cmd="a" listen=1 ${args(64)}\n}\n`, 'c.conf');
  assert.equal(ok.services.length, 1);
  assert.match(
    fatal(`SERVICES {\n s cmd="a" listen=1 ${args(65)}\n}\n`).message,
    /too many arguments for 's' \(at most 64\)/,
  );
});

test('first occurrence of a key wins; unknown keys are warnings', () => {
  const c = parseCyrusConf(
    'SERVICES {\n imap cmd="imapd" listen=imap prefork=1 prefork=5 colour=blue\n}\n',
    'c.conf',
  );
  assert.equal(c.services[0]!.prefork, 1);
  assert.deepEqual(c.warnings, ["c.conf:2: unknown key 'colour' in SERVICES entry 'imap' ignored"]);
});

test('integers: atoi rules, non-numeric falls back to the default with a warning', () => {
  const c = parseCyrusConf(
    'SERVICES {\n imap cmd="imapd" listen=imap prefork=0400 maxchild=lots maxfds=10x\n}\n',
    'c.conf',
  );
  assert.equal(c.services[0]!.prefork, 400);
  assert.equal(c.services[0]!.maxchild, -1);
  assert.equal(c.services[0]!.maxfds, 10);
  assert.equal(c.warnings.length, 2);
});

test('sections: any case, brace on the same line, repeated, unknown blocks skipped', () => {
  const text =
    'start {\n a cmd="one"\n}\nOTHER {\n inner { x }\n junk cmd="no"\n}\nSTART{\n b cmd="two"\n}\nSTART\n{\n c cmd="three"\n}\n';
  const c = parseCyrusConf(text, 'c.conf');
  assert.deepEqual(
    c.start.map((s) => s.name),
    ['a', 'b'],
  );
  assert.ok(c.warnings.some((w) => /c\.conf:11: section START has no '\{' on the same line/.test(w)));
  assert.ok(c.warnings.some((w) => /c\.conf:4: unknown section 'OTHER' skipped/.test(w)));
});

test('a } after the arguments ends the section', () => {
  const c = parseCyrusConf(
    'START {\n a cmd="one" }\nb cmd="outside"\nEVENTS {\n e cmd="x" period=5 }\n',
    'c.conf',
  );
  assert.deepEqual(
    c.start.map((s) => s.name),
    ['a'],
  );
  assert.equal(c.events.length, 1);
  assert.ok(c.warnings.some((w) => /c\.conf:3: text outside any section ignored/.test(w)));
});

test('unquoted values, quoted values with spaces, cmd split on whitespace without a shell', () => {
  const c = parseCyrusConf(
    'SERVICES {\n  x cmd="prog  -a   \'b c\'" listen=127.0.0.1:143 proto=tcp4\n}\n',
    'c.conf',
  );
  assert.deepEqual(c.services[0]!.cmd, ['prog', '-a', "'b", "c'"]);
  assert.equal(c.services[0]!.listen, '127.0.0.1:143');
  assert.equal(c.services[0]!.proto, 'tcp4');
});

test('unknown proto disables the service with a warning', () => {
  const c = parseCyrusConf('SERVICES {\n x cmd="a" listen=1 proto=sctp\n}\n', 'c.conf');
  assert.equal(c.services.length, 0);
  assert.match(c.warnings[0]!, /c\.conf:2: 'x': unknown proto 'sctp'; Cyrus disables this service/);
});

test('EVENTS without period or at runs once at load: kept, with a warning', () => {
  const c = parseCyrusConf('EVENTS {\n once cmd="x"\n bad cmd="y" at=2460\n}\n', 'c.conf');
  assert.deepEqual(
    c.events.map((e) => [e.name, e.period, e.at]),
    [
      ['once', 0, null],
      ['bad', 0, null],
    ],
  );
  assert.ok(c.warnings.some((w) => /c\.conf:2: EVENTS entry 'once' has neither period nor at/.test(w)));
  assert.ok(c.warnings.some((w) => /c\.conf:3: 'bad': at=2460 is not a time HHMM/.test(w)));
});

test('DAEMON: wait switch spellings and maxforkrate 0 becomes 10', () => {
  const c = parseCyrusConf(
    'DAEMON {\n a cmd="x" wait=yes\n b cmd="x" wait=off maxforkrate=0\n c cmd="x" wait=true\n}\n',
    'c.conf',
  );
  assert.deepEqual(
    c.daemons.map((d) => [d.wait, d.maxforkrate]),
    [
      [true, 10],
      [false, 10],
      [true, 10],
    ],
  );
});

test('loadCyrusConf: missing file names the path', () => {
  assert.throws(() => loadCyrusConf('/nonexistent/cyrus.conf'), /\/nonexistent\/cyrus\.conf: no such file/);
  const dir = mkdtempSync(join(tmpdir(), 'cyrusconf-'));
  try {
    writeFileSync(join(dir, 'cyrus.conf'), FULL);
    assert.equal(loadCyrusConf(join(dir, 'cyrus.conf')).services.length, 4);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
