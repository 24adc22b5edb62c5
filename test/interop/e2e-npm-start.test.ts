/**
 * End to end: `npm start` as a developer runs it. The exact command of package.json's "start"
 * script runs in a temp copy of the project layout (doc/examples/dev copied, dist/ linked) so
 * the repository's var/ is untouched; the only change to the copied cyrus.conf is that its
 * fixed loopback ports become free ones (a developer's own `npm start` may hold 1143 etc.).
 * The test waits for the banner with the dev user's credentials and the ports, logs in over
 * IMAP with them (append + fetch through Python's imaplib), delivers over LMTP to dev and reads
 * that message over POP3, then stops the master by pid and checks no process is left.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './lib/suite.js';
import { descendants, waitGone } from './lib/proc.js';
import { imapAppend, imapMailbox, lmtpDeliver, message, popList } from './lib/clients.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/interop → project root

/** the "start" script of package.json, as argv (it is a plain command, no shell syntax) */
function startCommand(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const cmd = pkg.scripts.start!;
  assert.doesNotMatch(cmd, /[|&;<>$`'"]/, 'the start script is a plain command');
  return cmd.trim().split(/\s+/);
}

test('npm start: prints dev credentials and ports; IMAP append+fetch, LMTP delivery read over POP3', async () => {
  const argv = startCommand();
  assert.equal(argv[0], 'node');
  const cwd = mkdtempSync(join(tmpdir(), 'cyr-npmstart-'));
  mkdirSync(join(cwd, 'doc/examples'), { recursive: true });
  cpSync(join(ROOT, 'doc/examples/dev'), join(cwd, 'doc/examples/dev'), { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(cwd, 'dist'));
  const cyrusConfPath = join(cwd, 'doc/examples/dev/cyrus.conf');
  let cyrusConf = readFileSync(cyrusConfPath, 'utf8');
  for (const m of [...cyrusConf.matchAll(/listen="127\.0\.0\.1:(\d+)"/g)])
    cyrusConf = cyrusConf.replace(m[0], `listen="127.0.0.1:${await freePort()}"`);
  writeFileSync(cyrusConfPath, cyrusConf);

  const child = spawn(process.execPath, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitOutput = (re: RegExp, ms = 30_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = (): void => {
        const m = output.match(re);
        if (m) return resolve(m);
        if (child.exitCode !== null)
          return reject(new Error(`npm start command exited ${child.exitCode}:\n${output}`));
        if (Date.now() - started > ms) return reject(new Error(`no ${re} after ${ms} ms:\n${output}`));
        setTimeout(tick, 50);
      };
      tick();
    });

  let tree: ReturnType<typeof descendants> = [];
  try {
    const user = (await waitOutput(/^\s*user:\s+(\S+)/m))[1]!;
    const pass = (await waitOutput(/^\s*password:\s+(\S+)/m))[1]!;
    const imap = Number((await waitOutput(/^\s*IMAP\s+127\.0\.0\.1:(\d+)/m))[1]);
    const pop3 = Number((await waitOutput(/^\s*POP3\s+127\.0\.0\.1:(\d+)/m))[1]);
    const lmtp = Number((await waitOutput(/^\s*LMTP\s+127\.0\.0\.1:(\d+)/m))[1]);
    assert.equal(user, 'dev');
    await waitOutput(/ready for work/);
    assert.ok(
      cyrusConf.includes(`:${imap}"`) && cyrusConf.includes(`:${pop3}"`),
      'banner ports are the configured ones',
    );

    const [status] = await imapAppend(
      imap,
      user,
      pass,
      'INBOX',
      message('hello from imaplib', 'appended over IMAP'),
    );
    assert.equal(status, 'OK');
    const afterAppend = await imapMailbox(imap, user, pass, 'INBOX');
    assert.equal(afterAppend.length, 1);
    assert.match(afterAppend[0]!.text, /Subject: hello from imaplib/);
    assert.match(afterAppend[0]!.text, /appended over IMAP/);

    await lmtpDeliver(lmtp, `${user}@localhost`, message('delivered over LMTP', 'lmtp body line'));
    const pop = await popList(pop3, user, pass);
    assert.equal(pop.length, 2, 'POP3 sees the appended and the delivered message');
    assert.ok(
      pop.some((m) => /Subject: delivered over LMTP/.test(m) && /lmtp body line/.test(m)),
      `LMTP message readable over POP3:\n${pop.join('\n----\n')}`,
    );
    assert.ok(
      readFileSync(join(cwd, 'var/lib/dev-credentials'), 'utf8').includes(pass),
      'state kept under ./var',
    );
    tree = descendants(child.pid!);
  } finally {
    child.kill('SIGTERM');
    const code = await exited;
    const left = await waitGone(tree, 15_000);
    rmSync(cwd, { recursive: true, force: true });
    assert.deepEqual(
      left.map((p) => p.pid),
      [],
      'no process left after SIGTERM',
    );
    assert.equal(code, 0, `master exit status after SIGTERM:\n${output.slice(-2000)}`);
  }
});
