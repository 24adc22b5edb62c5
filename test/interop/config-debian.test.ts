// Debian's real cyrus-common 3.6 configuration files load with our readers: `apt-get download
// cyrus-common`, unpack it with dpkg-deb, run the built cyr_info on its etc/imapd.conf and
// etc/cyrus.conf. Needs apt sources reachable (network or a local mirror) and dpkg-deb.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CYR_INFO = join(ROOT, 'dist/src/bin/cyr_info.js');

function run(cmd: string, args: string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

test("Debian cyrus-common's imapd.conf and cyrus.conf pass cyr_info conf, conf-lint and services", () => {
  assert.ok(existsSync(CYR_INFO), `${CYR_INFO} missing: run npx tsc -p . first`);
  const dir = mkdtempSync(join(tmpdir(), 'debian-cyrus-'));
  try {
    const dl = run('apt-get', ['download', 'cyrus-common'], dir);
    const deb = readdirSync(dir).find((f) => f.startsWith('cyrus-common_') && f.endsWith('.deb'));
    assert.ok(deb, `apt-get download cyrus-common failed (exit ${dl.code}): ${dl.err}`);
    const x = run('dpkg-deb', ['-x', deb, 'root'], dir);
    assert.equal(x.code, 0, x.err);
    const imapd = join(dir, 'root/etc/imapd.conf');
    const cyrus = join(dir, 'root/etc/cyrus.conf');

    const conf = run(process.execPath, [CYR_INFO, '-C', imapd, '-M', cyrus, 'conf'], dir);
    assert.equal(conf.code, 0, conf.err);
    const lines = conf.out.trim().split('\n');
    for (const expected of [
      'configdirectory: /var/lib/cyrus',
      'proc_path: /run/cyrus/proc',
      'altnamespace: no',
      'unixhierarchysep: no',
      'allowplaintext: yes',
      'httpmodules: caldav carddav',
      'lmtpsocket: /run/cyrus/socket/lmtp',
      'partition-default: /var/spool/cyrus/mail',
      'sasl_pwcheck_method: auxprop',
    ]) {
      assert.ok(lines.includes(expected), `missing '${expected}' in:\n${conf.out}`);
    }
    // no error; the only warning is the key Cyrus 3.6 does not know either
    assert.doesNotMatch(conf.err, /error/i);
    assert.deepEqual(
      conf.err
        .trim()
        .split('\n')
        .filter((l) => l !== ''),
      [`cyr_info: warning: ${imapd}:${lineOf(imapd, 'newsspool')}: unknown option 'newsspool'`],
    );

    // conf-lint: no error lines; it lists newsspool (as Cyrus 3.6's own conf-lint does) and nothing else
    const lint = run(process.execPath, [CYR_INFO, '-C', imapd, '-M', cyrus, 'conf-lint'], dir);
    assert.doesNotMatch(lint.out, /^error:/m, lint.out);
    assert.doesNotMatch(lint.out, /^warning:/m, lint.out);
    const findings = lint.out.trim().split('\n');
    assert.equal(findings.length, 1, lint.out);
    assert.match(findings[0]!, /^unknown: .*imapd\.conf:\d+: newsspool: \/var\/spool\/news$/);
    assert.equal(lint.code, 1);

    // every listen= of Debian's cyrus.conf resolves on this machine
    const services = run(process.execPath, [CYR_INFO, '-C', imapd, '-M', cyrus, 'services'], dir);
    assert.equal(services.code, 0, services.out + services.err);
    assert.match(services.out, /^ok {7}imap\tlisten=imap\t\*:143$/m);
    assert.match(services.out, /^ok {7}sieve\tlisten=localhost:sieve\tlocalhost:4190$/m);
    assert.match(
      services.out,
      /^ok {7}lmtpunix\tlisten=\/run\/cyrus\/socket\/lmtp\tunix:\/run\/cyrus\/socket\/lmtp$/m,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** 1-based number of the line of `file` that sets `key` */
function lineOf(file: string, key: string): number {
  return (
    readFileSync(file, 'utf8')
      .split('\n')
      .findIndex((l) => l.startsWith(`${key}:`)) + 1
  );
}
