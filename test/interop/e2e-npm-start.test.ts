/**
 * End to end: `npm start` as a developer runs it. The exact command of package.json's "start"
 * script runs in a temp copy of the project layout (doc/examples/dev copied, dist/ linked) so
 * the repository's var/ is untouched; the only change to the copied cyrus.conf is that its
 * fixed loopback ports become free ones (a developer's own `npm start` may hold 1143 etc.).
 * The tests wait for the banner with the dev user's credentials and the ports, use them over
 * IMAP, LMTP and POP3 (Python's imaplib, smtplib.LMTP, poplib), stop the master by pid and
 * check no process is left; a restart keeps the user, its password and its mail.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
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
  const argv = cmd.trim().split(/\s+/);
  assert.equal(argv[0], 'node');
  return argv;
}

/** a temp project layout: doc/examples/dev copied (ports made free), dist/ linked */
async function devTree(): Promise<string> {
  const cwd = mkdtempSync(join(tmpdir(), 'cyr-npmstart-'));
  mkdirSync(join(cwd, 'doc/examples'), { recursive: true });
  cpSync(join(ROOT, 'doc/examples/dev'), join(cwd, 'doc/examples/dev'), { recursive: true });
  symlinkSync(join(ROOT, 'dist'), join(cwd, 'dist'));
  const cyrusConfPath = join(cwd, 'doc/examples/dev/cyrus.conf');
  let cyrusConf = readFileSync(cyrusConfPath, 'utf8');
  for (const m of [...cyrusConf.matchAll(/listen="127\.0\.0\.1:(\d+)"/g)])
    cyrusConf = cyrusConf.replace(m[0], `listen="127.0.0.1:${await freePort()}"`);
  writeFileSync(cyrusConfPath, cyrusConf);
  return cwd;
}

interface Dev {
  child: ChildProcess;
  output(): string;
  user: string;
  pass: string;
  ports: { imap: number; pop3: number; lmtp: number };
  /** SIGTERM by pid; resolves to the exit code once master and all below it are gone */
  stop(): Promise<number | null>;
}

/** run the start command in `cwd`, wait for the banner and "ready for work" */
async function startDev(cwd: string): Promise<Dev> {
  const argv = startCommand();
  const child = spawn(process.execPath, argv.slice(1), { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    const tree = descendants(child.pid!);
    child.kill('SIGTERM');
    const code = await exited;
    const left = await waitGone(tree, 15_000);
    assert.deepEqual(
      left.map((p) => p.pid),
      [],
      'no process left after SIGTERM',
    );
    return code;
  };
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
  try {
    const user = (await waitOutput(/^\s*user:\s+(\S+)/m))[1]!;
    const pass = (await waitOutput(/^\s*password:\s+(\S+)/m))[1]!;
    const port = async (proto: string): Promise<number> =>
      Number((await waitOutput(new RegExp(`^\\s*${proto}\\s+127\\.0\\.0\\.1:(\\d+)`, 'm')))[1]);
    const ports = { imap: await port('IMAP'), pop3: await port('POP3'), lmtp: await port('LMTP') };
    await waitOutput(/ready for work/);
    return { child, output: () => output, user, pass, ports, stop };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}

test('npm start: prints dev credentials and ports; IMAP append+fetch, LMTP delivery read over POP3', async () => {
  const cwd = await devTree();
  try {
    const dev = await startDev(cwd);
    try {
      assert.equal(dev.user, 'dev');
      const cyrusConf = readFileSync(join(cwd, 'doc/examples/dev/cyrus.conf'), 'utf8');
      for (const p of Object.values(dev.ports))
        assert.ok(cyrusConf.includes(`:${p}"`), `banner port ${p} is configured`);

      const [status] = await imapAppend(
        dev.ports.imap,
        dev.user,
        dev.pass,
        'INBOX',
        message('hello from imaplib', 'appended over IMAP'),
      );
      assert.equal(status, 'OK');
      const inbox = await imapMailbox(dev.ports.imap, dev.user, dev.pass, 'INBOX');
      assert.equal(inbox.length, 1);
      assert.match(inbox[0]!.text, /Subject: hello from imaplib/);
      assert.match(inbox[0]!.text, /appended over IMAP/);

      await lmtpDeliver(
        dev.ports.lmtp,
        `${dev.user}@localhost`,
        message('delivered over LMTP', 'lmtp body line'),
      );
      const pop = await popList(dev.ports.pop3, dev.user, dev.pass);
      assert.equal(pop.length, 2, 'POP3 sees the appended and the delivered message');
      assert.ok(
        pop.some((m) => /Subject: delivered over LMTP/.test(m) && /lmtp body line/.test(m)),
        `LMTP message readable over POP3:\n${pop.join('\n----\n')}`,
      );
      assert.ok(
        readFileSync(join(cwd, 'var/lib/dev-credentials'), 'utf8').includes(dev.pass),
        'state under ./var',
      );
    } finally {
      assert.equal(await dev.stop(), 0, `master exit status after SIGTERM:\n${dev.output().slice(-2000)}`);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('npm start again in the same tree: same dev password, the mail is still there', async () => {
  const cwd = await devTree();
  try {
    const first = await startDev(cwd);
    try {
      await lmtpDeliver(first.ports.lmtp, first.user, message('kept across restarts', 'still here'));
    } finally {
      await first.stop();
    }
    const second = await startDev(cwd);
    try {
      assert.equal(second.user, first.user);
      assert.equal(second.pass, first.pass, 'the banner shows the password created at the first start');
      const inbox = await imapMailbox(second.ports.imap, second.user, second.pass, 'INBOX');
      assert.equal(inbox.length, 1);
      assert.match(inbox[0]!.text, /Subject: kept across restarts/);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
