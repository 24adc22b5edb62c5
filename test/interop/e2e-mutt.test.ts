/**
 * End to end with mutt (package mutt) against the suite under cyr_master. mutt needs a
 * terminal: it runs under util-linux `script` (a pty), driven by `push` of key functions, with
 * STARTTLS and the suite's self-signed certificate as its trusted certificate_file. It lists the
 * INBOX (the index shows every subject), pipes every message to a file (proving it read them),
 * and in a second run flags one message and deletes another, which Python's imaplib then sees
 * on the server.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSuite, type Suite } from './lib/suite.js';
import { run, type RunResult } from './lib/run.js';
import { imapMailbox, lmtpDeliver, message } from './lib/clients.js';

const USER = 'mutty';
const PASS = 'mutt-pw-9';
let suite: Suite;
let rc: string;

before(async () => {
  suite = await startSuite({ services: ['imap', 'imaps', 'pop3', 'lmtpunix'] });
  await suite.addUser(USER, PASS);
  for (const s of ['alpha', 'bravo', 'charlie'])
    await lmtpDeliver(suite.lmtpSocket, USER, message(`mutt ${s}`, `the ${s} body`));
  rc = join(suite.dir, 'muttrc');
  writeFileSync(
    rc,
    [
      `set imap_user = "${USER}"`,
      `set imap_pass = "${PASS}"`,
      `set pop_user = "${USER}"`,
      `set pop_pass = "${PASS}"`,
      `set folder = "imap://localhost:${suite.ports.imap}/"`,
      'set spoolfile = "+INBOX"',
      'set ssl_starttls = yes',
      'set ssl_force_tls = yes',
      `set certificate_file = "${suite.certFile}"`,
      'set quit = yes',
      'set wait_key = no',
      'set confirmappend = no',
      'set delete = yes',
      'set move = no',
      'set mark_old = no',
      'set pipe_split = yes',
      'set sort = date-sent',
      'set index_format = "IDX %4C %s"',
      'set header_cache = ""',
      'set message_cachedir = ""',
      '',
    ].join('\n'),
  );
});
after(async () => {
  await suite.stop();
});

/** run mutt on a folder (default the IMAP INBOX) in a pty, executing `keys` (push syntax) */
function mutt(keys: string, folder = '+INBOX'): Promise<RunResult> {
  const cmd = `mutt -n -F ${rc} -f '${folder}' -e 'push "${keys}"'`;
  return run('script', ['-qec', cmd, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm', HOME: suite.dir, COLUMNS: '120', LINES: '40' },
    timeoutMs: 30_000,
  });
}

test('mutt lists the INBOX over imap:// (STARTTLS) and pipes every message out', async () => {
  const out = join(suite.dir, 'piped.txt');
  const r = await mutt(`<tag-pattern>~A<enter><tag-prefix><pipe-message>cat >> ${out}<enter><quit>`);
  assert.equal(r.code, 0, `mutt exited ${r.code ?? r.signal}:\n${r.out}`);
  for (const s of ['alpha', 'bravo', 'charlie'])
    assert.match(r.out, new RegExp(`IDX +\\d+ mutt ${s}`), `index line for ${s}`);
  assert.ok(existsSync(out), `nothing piped; screen:\n${r.out}`);
  const piped = readFileSync(out, 'utf8');
  for (const s of ['alpha', 'bravo', 'charlie']) {
    assert.match(piped, new RegExp(`Subject: mutt ${s}`));
    assert.match(piped, new RegExp(`the ${s} body`));
  }
});

test('mutt flags one message and deletes another; the server shows both changes', async () => {
  const r = await mutt(
    `<tag-pattern>~s alpha<enter><tag-prefix><flag-message><untag-pattern>~A<enter>` +
      `<delete-pattern>~s bravo<enter><sync-mailbox><quit>`,
  );
  assert.equal(r.code, 0, `mutt exited ${r.code ?? r.signal}:\n${r.out}`);
  const left = await imapMailbox(suite.ports.imap!, USER, PASS);
  const subjects = left.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim());
  assert.deepEqual(subjects, ['mutt alpha', 'mutt charlie'], 'bravo expunged');
  assert.ok(left[0]!.flags.includes('\\Flagged'), `alpha flagged: ${left[0]!.flags.join(' ')}`);
  assert.ok(!left[1]!.flags.includes('\\Flagged'));
});

test('mutt over imaps:// (implicit TLS) pipes a message', async () => {
  const out = join(suite.dir, 'imaps.txt');
  const r = await mutt(
    `<tag-pattern>~s charlie<enter><tag-prefix><pipe-message>cat > ${out}<enter><quit>`,
    `imaps://localhost:${suite.ports.imaps}/INBOX`,
  );
  assert.equal(r.code, 0, `mutt exited ${r.code ?? r.signal}:\n${r.out}`);
  assert.ok(existsSync(out), `nothing piped; screen:\n${r.out}`);
  assert.match(readFileSync(out, 'utf8'), /the charlie body/);
});

test('mutt over pop:// (STLS) reads the maildrop and deletes a message with DELE', async () => {
  await lmtpDeliver(suite.lmtpSocket, USER, message('mutt delta', 'the delta body'));
  const out = join(suite.dir, 'pop.txt');
  const r = await mutt(
    `<tag-pattern>~s delta<enter><tag-prefix><pipe-message>cat > ${out}<enter>` +
      `<untag-pattern>~A<enter><delete-pattern>~s delta<enter><quit>`,
    `pop://localhost:${suite.ports.pop3}/`,
  );
  assert.equal(r.code, 0, `mutt exited ${r.code ?? r.signal}:\n${r.out}`);
  assert.ok(existsSync(out), `nothing piped; screen:\n${r.out}`);
  assert.match(readFileSync(out, 'utf8'), /the delta body/);
  const left = await imapMailbox(suite.ports.imap!, USER, PASS);
  assert.deepEqual(
    left.map((m) => /^Subject: (.*)$/m.exec(m.text)?.[1]?.trim()),
    ['mutt alpha', 'mutt charlie'],
    'delta deleted through POP3',
  );
});
