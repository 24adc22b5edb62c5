import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from './api.js';
import {
  defaultImapdConfPath,
  defaultPartition,
  impliedPath,
  loadImapdConf,
  parseImapdConf,
  type ParseOptions,
} from './imapd-conf.js';
import { extractConfigFlag, loadConfigForTool, cyrusIdent, EX_CONFIG, EX_USAGE } from './tool.js';

const BASE = 'configdirectory: /var/lib/cyrus\npartition-default: /var/spool/cyrus\n';

function parse(text: string, extra: Partial<ParseOptions> = {}) {
  const warnings: string[] = [];
  const conf = parseImapdConf(text, { path: 'test.conf', warn: (m) => warnings.push(m), ...extra });
  return { conf, warnings };
}

function parseError(text: string, extra: Partial<ParseOptions> = {}): ConfigError {
  try {
    parse(text, extra);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

test('reads key: value lines, lower-cases keys, trims values, skips comments and blanks', () => {
  const { conf, warnings } = parse(
    `# comment\n\n  ${BASE}AllowPlainText:   yes   \n   # indented comment\nAdmins: cyrus  admin2\n`,
  );
  assert.equal(conf.configDirectory, '/var/lib/cyrus');
  assert.equal(conf.getSwitch('allowplaintext'), true);
  assert.equal(conf.getString('admins'), 'cyrus  admin2');
  assert.deepEqual(warnings, []);
});

test('a # after the value is part of the value', () => {
  const { conf } = parse(`${BASE}admins: cyrus # not a comment\n`);
  assert.equal(conf.getString('admins'), 'cyrus # not a comment');
});

test('backslash at end of line joins the next line, keeping its leading whitespace', () => {
  const { conf } = parse(`${BASE}admins: cyrus\\\n  fred\n`);
  assert.equal(conf.getString('admins'), 'cyrus  fred');
  const { conf: c2 } = parse(`${BASE}admins: a\\\nb\\\nc\nservername: x\n`);
  assert.equal(c2.getString('admins'), 'abc');
  assert.equal(c2.getString('servername'), 'x');
});

test('line numbers count physical lines after a continuation', () => {
  const e = parseError(`${BASE}admins: a\\\nb\nbad key: x\n`);
  assert.equal(e.line, 5);
  assert.match(e.message, /^test\.conf:5: invalid option name 'bad'/);
});

test('space before the colon is fatal, naming file and line', () => {
  const e = parseError(`${BASE}timeout : 30\n`);
  assert.equal(e.file, 'test.conf');
  assert.equal(e.line, 3);
  assert.match(e.message, /test\.conf:3: invalid option name 'timeout'/);
});

test('a line without a colon is fatal', () => {
  const e = parseError(`${BASE}justaword\n`);
  assert.match(e.message, /test\.conf:3: invalid option name 'justaword'/);
});

test('empty value is fatal', () => {
  const e = parseError(`${BASE}admins:   \n`);
  assert.equal(e.line, 3);
  assert.equal(e.key, 'admins');
  assert.match(e.message, /test\.conf:3: empty value for option 'admins'/);
});

test('key: with no space after the colon is accepted', () => {
  const { conf } = parse(`${BASE}servername:mail.example.com\n`);
  assert.equal(conf.getString('servername'), 'mail.example.com');
});

test('the same option twice is fatal and names both places', () => {
  const e = parseError(`${BASE}admins: a\nADMINS: b\n`);
  assert.equal(e.line, 4);
  assert.match(e.message, /option 'admins' was specified twice \(first at test\.conf:3\)/);
});

test('an overflow key twice is fatal too', () => {
  const e = parseError(`${BASE}partition-default: /x\n`);
  assert.match(e.message, /'partition-default' was specified twice/);
});

test('missing configdirectory is fatal and names the file', () => {
  const e = parseError('admins: cyrus\n');
  assert.equal(e.key, 'configdirectory');
  assert.match(e.message, /^test\.conf: required option 'configdirectory' is not set/);
});

test('missing file is a ConfigError naming the path', () => {
  assert.throws(
    () => loadImapdConf('/nonexistent/dir/imapd.conf'),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(e.message, /\/nonexistent\/dir\/imapd\.conf: no such file/);
      return true;
    },
  );
});

test('wrong type is a ConfigError with file, line, key and the expected type', () => {
  const cases: [string, RegExp][] = [
    ['allowplaintext: maybe', /option 'allowplaintext' \(switch\) must be a switch/],
    ['maxlogins_per_user: 12abc', /option 'maxlogins_per_user' \(int\) must be an integer/],
    ['timeout: 5 minutes', /option 'timeout' \(duration\) must be a duration/],
    ['maxword: 12Q', /option 'maxword' \(bytesize\) must be a size/],
    ['virtdomains: sometimes', /option 'virtdomains' \(enum\) must be one of: off, userid, on/],
    ['httpmodules: caldav nonsense', /option 'httpmodules' \(bitfield\) must be words from: admin caldav/],
    ['mboxlist_db: oracle', /option 'mboxlist_db' must be one of: sqlite, pgsql/],
  ];
  for (const [line, re] of cases) {
    const e = parseError(`${BASE}${line}\n`);
    assert.equal(e.file, 'test.conf', line);
    assert.equal(e.line, 3, line);
    assert.match(e.message, /^test\.conf:3: /, line);
    assert.match(e.message, re, line);
  }
});

test('switch spellings as Cyrus reads them', () => {
  for (const v of ['1', 'yes', 'y', 'true', 't', 'on', 'onward']) {
    assert.equal(parse(`${BASE}allowplaintext: ${v}\n`).conf.getSwitch('allowplaintext'), true, v);
  }
  for (const v of ['0', 'no', 'n', 'false', 'f', 'off']) {
    assert.equal(parse(`${BASE}allowapop: ${v}\n`).conf.getSwitch('allowapop'), false, v);
  }
  for (const v of ['Yes', 'ON', 'o', 'maybe']) {
    assert.match(parseError(`${BASE}allowapop: ${v}\n`).message, /must be a switch/, v);
  }
});

test('int accepts hex and leading-zero octal like strtol base 0', () => {
  assert.equal(parse(`${BASE}maxlogins_per_user: 0x1F\n`).conf.getInt('maxlogins_per_user'), 31);
  assert.equal(parse(`${BASE}maxlogins_per_user: 017\n`).conf.getInt('maxlogins_per_user'), 15);
  assert.equal(parse(`${BASE}maxlogins_per_user: -3\n`).conf.getInt('maxlogins_per_user'), -3);
});

test('defaults are Cyrus 3.6 defaults', () => {
  const { conf } = parse(BASE);
  assert.equal(conf.getSwitch('allowplaintext'), false);
  assert.equal(conf.getSwitch('altnamespace'), true);
  assert.equal(conf.getSwitch('unixhierarchysep'), true);
  assert.equal(conf.getString('defaultdomain'), 'internal');
  assert.equal(conf.getEnum('virtdomains'), 'off');
  assert.equal(conf.getEnum('delete_mode'), 'delayed');
  assert.equal(conf.getInt('sieve_maxscripts'), 5);
  assert.equal(conf.getDuration('timeout'), 32 * 60);
  assert.equal(conf.getDuration('poptimeout'), 10 * 60);
  assert.equal(conf.getBytes('maxword'), 131072);
  assert.equal(conf.getBytes('sieve_maxscriptsize'), 32 * 1024);
  assert.equal(conf.getBytes('autocreate_quota'), -1);
  assert.equal(conf.getString('lmtpsocket'), '/var/lib/cyrus/socket/lmtp');
  assert.equal(conf.getString('sievedir'), '/usr/sieve');
  assert.equal(conf.getString('proc_path'), null);
  assert.equal(impliedPath(conf, 'proc_path'), '/var/lib/cyrus/proc');
  assert.equal(conf.getEnum('mboxlist_db'), 'sqlite');
  assert.ok(conf.getBits('sieve_extensions').includes('vacation'));
  assert.deepEqual(conf.getBits('httpmodules'), []);
});

test('{configdirectory} at the start of a string value is expanded', () => {
  const { conf } = parse(`${BASE}proc_path: {configdirectory}/myproc\nadmins: {configdirectory}\n`);
  assert.equal(conf.getString('proc_path'), '/var/lib/cyrus/myproc');
  assert.equal(impliedPath(conf, 'proc_path'), '/var/lib/cyrus/myproc');
});

test('relative paths are kept as written', () => {
  const { conf } = parse(
    'configdirectory: var/lib\npartition-default: var/spool\nlmtpsocket: var/lib/socket/lmtp\n',
  );
  assert.equal(conf.configDirectory, 'var/lib');
  assert.equal(conf.getString('lmtpsocket'), 'var/lib/socket/lmtp');
  assert.equal(conf.getString('idlesocket'), 'var/lib/socket/idle');
  assert.deepEqual([...conf.partitions()], [['default', 'var/spool']]);
});

test('durations: units, sums, negatives and legacy units for bare numbers', () => {
  const d = (line: string, name: string) => parse(`${BASE}${line}\n`).conf.getDuration(name);
  assert.equal(d('timeout: 45', 'timeout'), 45 * 60); // legacy unit minutes
  assert.equal(d('timeout: 1h30m', 'timeout'), 5400);
  assert.equal(d('timeout: 90s', 'timeout'), 90);
  assert.equal(d('timeout: 1h30', 'timeout'), 5400); // trailing number takes the legacy unit
  assert.equal(d('failedloginpause: 1m5', 'failedloginpause'), 65);
  assert.equal(d('failedloginpause: 5', 'failedloginpause'), 5); // seconds
  assert.equal(d('archive_after: 2', 'archive_after'), 2 * 86400); // days
  assert.equal(d('popexpiretime: -1', 'popexpiretime'), -86400);
  assert.equal(d('tls_session_timeout: 1440', 'tls_session_timeout'), 86400);
  assert.equal(d('sync_repeat_interval: 1d2h3m4s', 'sync_repeat_interval'), 86400 + 7200 + 180 + 4);
  assert.equal(parse(`${BASE}timeout: 45\n`).conf.getInt('timeout'), 45);
});

test('bytesizes: suffixes, 1024-based, legacy units for bare numbers', () => {
  const b = (line: string, name: string) => parse(`${BASE}${line}\n`).conf.getBytes(name);
  assert.equal(b('maxword: 64K', 'maxword'), 65536);
  assert.equal(b('maxword: 64KiB', 'maxword'), 65536);
  assert.equal(b('maxword: 64KB', 'maxword'), 65536);
  assert.equal(b('maxword: 1000', 'maxword'), 1000); // bytes
  assert.equal(b('maxmessagesize: 10M', 'maxmessagesize'), 10 * 1024 * 1024);
  assert.equal(b('maxmessagesize: 2G', 'maxmessagesize'), 2 * 1024 ** 3);
  assert.equal(b('sieve_maxscriptsize: 64', 'sieve_maxscriptsize'), 64 * 1024); // KiB
  assert.equal(b('autocreate_quota: 0', 'autocreate_quota'), 0);
  assert.equal(b('autocreate_quota: 100', 'autocreate_quota'), 102400);
  assert.equal(b('sieve_maxscriptsize: 512B', 'sieve_maxscriptsize'), 512);
  assert.equal(parse(`${BASE}autocreate_quota: 2M\n`).conf.getInt('autocreate_quota'), 2048);
});

test('enum normalises yes/no to on/off, bitfield aliases map to canonical names', () => {
  assert.equal(parse(`${BASE}serverinfo: no\n`).conf.getEnum('serverinfo'), 'off');
  assert.equal(parse(`${BASE}serverinfo: min\n`).conf.getEnum('serverinfo'), 'min');
  assert.deepEqual(parse(`${BASE}sieve_extensions: fileinto imapflags\n`).conf.getBits('sieve_extensions'), [
    'fileinto',
    'imap4flags',
  ]);
});

test('service overrides: imap_allowplaintext applies to service imap only', () => {
  const text = `${BASE}allowplaintext: no\nimap_allowplaintext: yes\n`;
  const { conf: imap, warnings } = parse(text, { service: 'imap' });
  assert.equal(imap.getSwitch('allowplaintext'), true);
  assert.deepEqual(warnings, []);
  assert.equal(parse(text, { service: 'imaps' }).conf.getSwitch('allowplaintext'), false);
  assert.equal(parse(text, { service: 'pop3' }).conf.getSwitch('allowplaintext'), false);
  assert.equal(parse(text).conf.getSwitch('allowplaintext'), false);
  assert.equal(imap.forService('pop3').getSwitch('allowplaintext'), false);
  assert.equal(imap.forService('pop3').forService('imap').getSwitch('allowplaintext'), true);
});

test('service-specific before generic: generic ignored; service-specific twice: fatal', () => {
  const { conf } = parse(`${BASE}imap_timeout: 40\ntimeout: 50\n`, { service: 'imap' });
  assert.equal(conf.getDuration('timeout'), 40 * 60);
  const e = parseError(`${BASE}imap_timeout: 40\nimap_timeout: 50\n`, { service: 'imap' });
  assert.match(e.message, /'imap_timeout' was specified twice/);
});

test('options that merely begin with a service name are ordinary options', () => {
  const { conf } = parse(`${BASE}lmtp_downcase_rcpt: no\nsieve_maxscripts: 9\n`, { service: 'lmtp' });
  assert.equal(conf.getSwitch('lmtp_downcase_rcpt'), false);
  assert.equal(conf.forService('sieve').getInt('sieve_maxscripts'), 9);
});

test("another service's override is type-checked at load", () => {
  const e = parseError(`${BASE}pop3s_allowplaintext: perhaps\n`, { service: 'imap' });
  assert.match(e.message, /test\.conf:3: option 'pop3s_allowplaintext' \(switch\) must be a switch/);
});

test('overflow: sasl_*, partitions, <host>_password, xlist-*, channel sync options: no warning', () => {
  const text =
    `${BASE}partition-news: /var/spool/news\nsasl_pwcheck_method: auxprop\nimap_sasl_mech_list: PLAIN\n` +
    `backend1_password: secret\nxlist-drafts: Drafts\nreplica_sync_host: r.example.com\nmetapartition-default: /meta\n`;
  const { conf, warnings } = parse(text, { service: 'imap' });
  assert.deepEqual(warnings, []);
  assert.equal(conf.getSasl('pwcheck_method'), 'auxprop');
  assert.equal(conf.getSasl('mech_list'), 'PLAIN');
  assert.equal(conf.forService('pop3').getSasl('mech_list'), undefined);
  assert.equal(conf.getOverflow('backend1_password'), 'secret');
  assert.equal(conf.getOverflow('replica_sync_host'), 'r.example.com');
  assert.deepEqual(Object.fromEntries(conf.partitions()), {
    default: '/var/spool/cyrus',
    news: '/var/spool/news',
  });
});

test('unknown key gives a warning with file, line and the nearest known key', () => {
  const { conf, warnings } = parse(`${BASE}allowplaintxt: yes\nzzzzqqqq: 1\n`);
  assert.deepEqual(warnings, [
    "test.conf:3: unknown option 'allowplaintxt' (did you mean 'allowplaintext'?)",
    "test.conf:4: unknown option 'zzzzqqqq'",
  ]);
  assert.equal(conf.getOverflow('allowplaintxt'), 'yes');
  assert.deepEqual(
    conf.warnings.map((w) => [w.kind, w.line]),
    [
      ['unknown', 3],
      ['unknown', 4],
    ],
  );
});

test('unknown service-prefixed key suggests the service-prefixed option', () => {
  const { warnings } = parse(`${BASE}imap_alowplaintext: yes\n`);
  assert.deepEqual(warnings, [
    "test.conf:3: unknown option 'imap_alowplaintext' (did you mean 'imap_allowplaintext'?)",
  ]);
});

test('defaultPartition: defaultpartition, else default, else first; errors when none', () => {
  assert.deepEqual(defaultPartition(parse(BASE).conf), { name: 'default', path: '/var/spool/cyrus' });
  const two = 'configdirectory: /c\npartition-a: /a\npartition-b: /b\n';
  assert.deepEqual(defaultPartition(parse(two).conf), { name: 'a', path: '/a' });
  assert.deepEqual(defaultPartition(parse(`${two}defaultpartition: b\n`).conf), { name: 'b', path: '/b' });
  assert.throws(() => defaultPartition(parse(`${two}defaultpartition: c\n`).conf), /no partition-c line/);
  assert.throws(
    () => defaultPartition(parse(`${two}defaultpartition: a-b\n`).conf),
    /must be letters and digits/,
  );
  assert.throws(() => defaultPartition(parse('configdirectory: /c\n').conf), /no partition-<name> line/);
});

test('deprecated names load with a warning and feed the replacement unless it is set', () => {
  const { conf, warnings } = parse(`${BASE}autocreatequota: 500\ntls_cert_file: /etc/ssl/c.pem\n`);
  assert.equal(conf.getBytes('autocreate_quota'), 500 * 1024);
  assert.equal(conf.getString('tls_server_cert'), '/etc/ssl/c.pem');
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0]!,
    /test\.conf:3: option 'autocreatequota' is deprecated in favour of 'autocreate_quota'/,
  );
  const { conf: c2 } = parse(`${BASE}tls_cert_file: /old.pem\ntls_server_cert: /new.pem\n`);
  assert.equal(c2.getString('tls_server_cert'), '/new.pem');
});

test('Cyrus database backend names are read as sqlite with a warning', () => {
  for (const b of ['twoskip', 'skiplist', 'flat', 'lmdb', 'berkeley', 'berkeley-hash', 'quotalegacy']) {
    const { conf, warnings } = parse(`${BASE}quota_db: ${b}\n`);
    assert.equal(conf.getEnum('quota_db'), 'sqlite', b);
    assert.equal(warnings.length, 1, b);
    assert.match(
      warnings[0]!,
      new RegExp(`test\\.conf:3: option 'quota_db': Cyrus backend '${b}' is read as 'sqlite'`),
    );
  }
  assert.equal(parse(`${BASE}mboxlist_db: pgsql\n`).conf.getEnum('mboxlist_db'), 'pgsql');
});

test('@include reads another file in place; including twice is fatal', () => {
  const files: Record<string, string> = { 'tls.conf': 'tls_server_cert: /c.pem\ntls_server_key: /k.pem\n' };
  const include = (p: string) => {
    const t = files[p];
    if (t === undefined) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return t;
  };
  const { conf } = parse(`${BASE}@include: tls.conf\nadmins: x\n`, { include });
  assert.equal(conf.getString('tls_server_key'), '/k.pem');
  assert.equal(conf.sourceOf('tls_server_key')?.file, 'tls.conf');
  assert.equal(conf.sourceOf('tls_server_key')?.line, 2);
  const e = parseError(`${BASE}@include: tls.conf\n@include: tls.conf\n`, { include });
  assert.match(e.message, /test\.conf:4: 'tls\.conf' is included twice/);
  const e2 = parseError(`${BASE}@include: missing.conf\n`, { include });
  assert.match(e2.message, /test\.conf:3: cannot read included file missing\.conf: no such file/);
  const e3 = parseError(`${BASE}@include: tls.conf\n`, {
    include: () => 'tls_server_cert: /c.pem\nbad key: 1\n',
  });
  assert.match(e3.message, /^tls\.conf:2: invalid option name/);
});

test('onError collects every problem instead of throwing the first', () => {
  const errors: ConfigError[] = [];
  parseImapdConf('admins:\nx y: 1\nallowplaintext: hmm\n', {
    path: 'l.conf',
    onError: (e) => errors.push(e),
    warn: () => {},
  });
  assert.deepEqual(
    errors.map((e) => e.line),
    [1, 2, 3, undefined],
  );
});

test('getters reject names outside the table and the wrong type', () => {
  const { conf } = parse(BASE);
  assert.throws(() => conf.getString('no_such_option'), ConfigError);
  assert.throws(() => conf.getSwitch('timeout'), ConfigError);
  assert.throws(() => conf.getInt('admins'), ConfigError);
});

test('loadImapdConf reads a file; defaultImapdConfPath honours CYRUS_PREFIX', () => {
  const dir = mkdtempSync(join(tmpdir(), 'imapdconf-'));
  try {
    const p = join(dir, 'imapd.conf');
    writeFileSync(p, `${BASE}imap_allowplaintext: yes\n`);
    const conf = loadImapdConf(p, { service: 'imap' });
    assert.equal(conf.path, p);
    assert.equal(conf.service, 'imap');
    assert.equal(conf.getSwitch('allowplaintext'), true);
    const saved = process.env['CYRUS_PREFIX'];
    try {
      delete process.env['CYRUS_PREFIX'];
      assert.equal(defaultImapdConfPath(), '/etc/imapd.conf');
      process.env['CYRUS_PREFIX'] = dir;
      assert.equal(defaultImapdConfPath(), '/etc/imapd.conf'); // $CYRUS_PREFIX/etc/imapd.conf absent
      mkdirSync(join(dir, 'etc'));
      writeFileSync(join(dir, 'etc', 'imapd.conf'), BASE);
      assert.equal(defaultImapdConfPath(), join(dir, 'etc', 'imapd.conf'));
      // any -C path is tried with the prefix first, includes too
      writeFileSync(join(dir, 'etc', 'inc.conf'), 'admins: fromprefix\n');
      writeFileSync(join(dir, 'etc', 'main.conf'), `${BASE}@include: /etc/inc.conf\n`);
      const prefixed = loadImapdConf('/etc/main.conf');
      assert.equal(prefixed.path, join(dir, 'etc', 'main.conf'));
      assert.equal(prefixed.getString('admins'), 'fromprefix');
      assert.equal(loadImapdConf(p).path, p); // not under the prefix: read as given
    } finally {
      if (saved === undefined) delete process.env['CYRUS_PREFIX'];
      else process.env['CYRUS_PREFIX'] = saved;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadConfigForTool: -C, identity, clean exit 78 on a config error, 64 on -C alone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'toolconf-'));
  try {
    const p = join(dir, 'imapd.conf');
    writeFileSync(p, `${BASE}ctl_cyrusdb_admins: dbadmin\n`);
    const { conf, rest, service } = loadConfigForTool(['-C', p, '-c', 'x'], 'cyr_ctl_cyrusdb', {
      exit: failExit,
    });
    assert.deepEqual(rest, ['-c', 'x']);
    assert.equal(service, 'ctl_cyrusdb');
    assert.equal(conf.getString('admins'), 'dbadmin');
    assert.equal(cyrusIdent('cyr_expire'), 'cyr_expire');
    assert.deepEqual(extractConfigFlag([`-C${p}`, '--', '-C', 'y']), {
      configPath: p,
      rest: ['--', '-C', 'y'],
    });

    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, `${BASE}timeout: soon\n`);
    let out = '';
    assert.throws(
      () => loadConfigForTool(['-C', bad], 'cyr_info', { exit: failExit, stderr: (t) => (out += t) }),
      /exit 78/,
    );
    assert.equal(EX_CONFIG, 78);
    assert.match(out, /^cyr_info: .*bad\.conf:3: option 'timeout' \(duration\) must be a duration/);
    assert.ok(!out.includes('    at '), 'no stack trace');
    out = '';
    assert.throws(
      () => loadConfigForTool(['-C'], 'cyr_info', { exit: failExit, stderr: (t) => (out += t) }),
      /exit 64/,
    );
    assert.equal(EX_USAGE, 64);
    assert.match(out, /cyr_info: option -C needs a file name/);
    out = '';
    assert.throws(
      () =>
        loadConfigForTool(['-C', join(dir, 'nope.conf')], 'cyr_info', {
          exit: failExit,
          stderr: (t) => (out += t),
        }),
      /exit 78/,
    );
    assert.match(out, /nope\.conf: no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function failExit(code: number): never {
  throw new Error(`exit ${code}`);
}
