/**
 * sieveForDelivery: the plan LMTP gets, and the mail sent through the sendmail stand-in
 * (redirect, vacation once per sender and period, notify, reject MDN). Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseMessage } from '../mail/parse.js';
import { memoryLogger } from '../log/logger.js';
import { sieveForDelivery } from './deliver.js';
import { SieveStore } from './store.js';
import { tempSite, MSG, type Site } from './test-helpers.js';
import type { SieveDeliveryInput } from './api.js';

async function input(
  site: Site,
  opts: Partial<SieveDeliveryInput> & { message?: string } = {},
): Promise<SieveDeliveryInput> {
  const msg = (opts.message ?? MSG).replace(/\r?\n/g, '\r\n');
  const path = join(site.dir, `msg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, msg);
  const parsed = await parseMessage(Buffer.from(msg));
  const existing = new Set(['user.fred', 'user.fred.Junk', 'user.fred.lists']);
  return {
    conf: site.conf,
    log: memoryLogger('lmtp'),
    userid: 'fred',
    envelopeFrom: 'alice@example.org',
    envelopeTo: 'fred@example.com',
    messagePath: path,
    parsed,
    mailboxExists: (n) => existing.has(n),
    createMailbox: (n) => existing.add(n),
    ...opts,
  };
}

function activate(site: Site, script: string, user = 'fred'): void {
  const st = new SieveStore(site.conf);
  st.put(user, 'main', Buffer.from(script));
  st.setActive(user, 'main');
}

test('no active script: null (LMTP does its normal delivery)', async () => {
  const site = tempSite();
  try {
    assert.equal(await sieveForDelivery(await input(site)), null);
    const st = new SieveStore(site.conf);
    st.put('fred', 'inactive', Buffer.from('discard;'));
    assert.equal(await sieveForDelivery(await input(site)), null);
  } finally {
    site.cleanup();
  }
});

test('fileinto by namespace name, flags, implicit keep to INBOX, :create and missing folders', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["fileinto", "imap4flags", "mailbox", "copy"];\n' +
        'if header :contains "subject" "cyrus-devel" { fileinto :copy :flags "\\\\Seen $list" "INBOX.lists"; }\n' +
        'fileinto :copy "Junk";\nfileinto :copy "Nope";\nfileinto :copy :create "New/Sub";\naddflag "$kept";',
    );
    const inp = await input(site);
    const plan = await sieveForDelivery(inp);
    assert.ok(plan);
    assert.deepEqual(plan.deliveries, [
      { mailbox: 'user.fred.lists', flags: ['\\Seen', '$list'] },
      { mailbox: 'user.fred.Junk', flags: [] },
      { mailbox: 'user.fred', flags: ['$kept'] },
      { mailbox: 'user.fred.New.Sub', flags: [] },
    ]);
    // the implicit keep merged into the INBOX delivery made by the fallback of "Nope"
    assert.equal(plan.discard, false);
    assert.equal(plan.errors.length, 1);
    assert.match(plan.errors[0]!, /Nope.*does not exist, kept in INBOX/);
    assert.ok(inp.mailboxExists('user.fred.New.Sub'));
  } finally {
    site.cleanup();
  }
});

test('implicit keep carries imap4flags; discard gives an empty plan; editheader edits are returned', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["imap4flags", "editheader"]; addflag "$seen-by-sieve"; addheader "X-Filtered" "yes";',
    );
    const plan = await sieveForDelivery(await input(site));
    assert.deepEqual(plan, {
      deliveries: [{ mailbox: 'user.fred', flags: ['$seen-by-sieve'] }],
      discard: false,
      errors: [],
      headerEdits: [{ op: 'add', name: 'X-Filtered', value: 'yes', last: false }],
    });
    activate(site, 'discard;');
    assert.deepEqual(await sieveForDelivery(await input(site)), {
      deliveries: [],
      discard: true,
      errors: [],
    });
  } finally {
    site.cleanup();
  }
});

test('a runtime error keeps the message in INBOX and reports the error', async () => {
  const site = tempSite();
  try {
    activate(site, 'require ["reject", "fileinto"]; fileinto "Junk"; reject "no";');
    const log = memoryLogger('lmtp');
    const plan = await sieveForDelivery(await input(site, { log }));
    assert.ok(plan);
    assert.deepEqual(plan.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.match(plan.errors[0]!, /reject cannot be used/);
    assert.ok(log.lines.some((l) => l.includes('sieve runtime error')));
  } finally {
    site.cleanup();
  }
});

test('reject: answered in LMTP by default; with sieve_use_lmtp_reject off an MDN goes to the sender', async () => {
  const site = tempSite();
  try {
    activate(site, 'require "reject"; reject "I do not want this.";');
    const plan = await sieveForDelivery(await input(site));
    assert.deepEqual(plan, {
      deliveries: [],
      discard: false,
      errors: [],
      reject: { reason: 'I do not want this.', ereject: false },
    });
    assert.equal(site.sent().length, 0);
  } finally {
    site.cleanup();
  }
  const site2 = tempSite({ sieve_use_lmtp_reject: 'no' });
  try {
    activate(site2, 'require "reject"; reject "I do not want this.";');
    const plan = await sieveForDelivery(await input(site2));
    assert.deepEqual(plan, { deliveries: [], discard: true, errors: [] });
    const sent = site2.sent();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.args, ['-f', '<>', '--', 'alice@example.org']);
    assert.match(sent[0]!.input, /Content-Type: multipart\/report; report-type=disposition-notification/);
    assert.match(sent[0]!.input, /I do not want this\./);
  } finally {
    site2.cleanup();
  }
});

test('redirect: message through sendmail with the loop header; a looping message is kept instead', async () => {
  const site = tempSite();
  try {
    activate(site, 'redirect "boss@example.net";');
    const plan = await sieveForDelivery(await input(site));
    assert.deepEqual(plan, { deliveries: [], discard: true, errors: [] });
    const sent = site.sent();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.args, ['-f', 'alice@example.org', '--', 'boss@example.net']);
    assert.ok(
      sent[0]!.input.startsWith(
        'X-Sieve-Redirected-From: fred@example.com\r\nReturn-Path: <alice@example.org>\r\n',
      ),
    );
    assert.ok(sent[0]!.input.endsWith('Budget approved.\r\n'));

    const looped = 'X-Sieve-Redirected-From: fred@example.com\r\n' + MSG;
    const plan2 = await sieveForDelivery(await input(site, { message: looped }));
    assert.ok(plan2);
    assert.deepEqual(plan2.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.match(plan2.errors[0]!, /mail loop/);
    assert.equal(site.sent().length, 1);
  } finally {
    site.cleanup();
  }
});

test('redirect with a failing sendmail keeps the message', async () => {
  const site = tempSite({ sendmail: '/bin/false' });
  try {
    activate(site, 'redirect "boss@example.net";');
    const plan = await sieveForDelivery(await input(site));
    assert.ok(plan);
    assert.deepEqual(plan.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.match(plan.errors[0]!, /redirect to boss@example.net failed/);
  } finally {
    site.cleanup();
  }
});

test('vacation: one reply per sender and period, none to lists, auto-submitted, null sender, or when not addressed', async () => {
  const site = tempSite({ sieve_vacation_min_response: '1d' });
  try {
    activate(
      site,
      'require "vacation";\nvacation :days 1 :addresses ["fred+lists@example.com"] :subject "Away" "I am away until Monday.";',
    );
    let now = Date.UTC(2026, 10, 28, 12);
    const clock = () => now;
    const plan = await sieveForDelivery(await input(site, { now: clock }));
    assert.deepEqual(plan, { deliveries: [{ mailbox: 'user.fred', flags: [] }], discard: false, errors: [] });
    let sent = site.sent();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.args, ['-f', '<>', '--', 'alice@example.org']);
    const reply = sent[0]!.input;
    assert.match(reply, /^From: <fred@example.com>\r\nTo: <alice@example.org>\r\nSubject: Away\r\n/);
    assert.match(reply, /\r\nIn-Reply-To: <report-1@example.org>\r\n/);
    assert.match(reply, /\r\nAuto-Submitted: auto-replied \(vacation\)\r\n/);
    assert.match(reply, /\r\n\r\nI am away until Monday\.\r\n$/);

    // same sender within the period: no second reply
    now += 3600 * 1000;
    await sieveForDelivery(await input(site, { now: clock }));
    assert.equal(site.sent().length, 1);
    // another sender: a reply
    await sieveForDelivery(await input(site, { now: clock, envelopeFrom: 'bob@example.org' }));
    assert.equal(site.sent().length, 2);
    // after the period: the first sender gets one again
    now += 86400 * 1000;
    await sieveForDelivery(await input(site, { now: clock }));
    sent = site.sent();
    assert.equal(sent.length, 3);

    // never: null sender, list mail, auto-submitted, precedence bulk, own address, not addressed
    now += 10 * 86400 * 1000;
    await sieveForDelivery(await input(site, { now: clock, envelopeFrom: '' }));
    await sieveForDelivery(await input(site, { now: clock, message: 'List-Id: <x.example.org>\r\n' + MSG }));
    await sieveForDelivery(
      await input(site, { now: clock, message: 'Auto-Submitted: auto-generated\r\n' + MSG }),
    );
    await sieveForDelivery(await input(site, { now: clock, message: 'Precedence: bulk\r\n' + MSG }));
    await sieveForDelivery(await input(site, { now: clock, envelopeFrom: 'fred@example.com' }));
    await sieveForDelivery(await input(site, { now: clock, envelopeFrom: 'owner-list@example.org' }));
    await sieveForDelivery(
      await input(site, {
        now: clock,
        message: MSG.replace(/^To: .*$/m, 'To: someone@else.org').replace(/^Cc: .*$/m, 'Cc: x@y.z'),
      }),
    );
    assert.equal(site.sent().length, 3);
    // and auto-submitted: no is fine
    await sieveForDelivery(await input(site, { now: clock, message: 'Auto-Submitted: no\r\n' + MSG }));
    assert.equal(site.sent().length, 4);
  } finally {
    site.cleanup();
  }
});

test('vacation :seconds 0 (vacation-seconds) answers every time', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["vacation", "vacation-seconds"];\nvacation :seconds 0 :addresses "fred+lists@example.com" "brb";',
    );
    await sieveForDelivery(await input(site));
    await sieveForDelivery(await input(site));
    assert.equal(site.sent().length, 2);
  } finally {
    site.cleanup();
  }
});

test('enotify mailto sends a notification; duplicate test remembers message ids', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["enotify", "duplicate", "fileinto"];\n' +
        'if duplicate { fileinto "Junk"; stop; }\n' +
        'notify :message "You have mail" "mailto:fred@phone.example?subject=Ping";',
    );
    const p1 = await sieveForDelivery(await input(site));
    assert.deepEqual(p1?.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    const sent = site.sent();
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.args, ['-f', '<>', '--', 'fred@phone.example']);
    assert.match(sent[0]!.input, /\r\nSubject: Ping\r\n/);
    assert.match(sent[0]!.input, /\r\nAuto-Submitted: auto-notified\r\n/);
    assert.match(sent[0]!.input, /\r\n\r\nYou have mail\r\n$/);
    const p2 = await sieveForDelivery(await input(site));
    assert.deepEqual(p2?.deliveries, [{ mailbox: 'user.fred.Junk', flags: [] }]);
    assert.equal(site.sent().length, 1);
  } finally {
    site.cleanup();
  }
});

test('special-use fileinto prefers the mailbox with the attribute; metadata through the callback', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["fileinto", "special-use", "mboxmetadata"];\n' +
        'if metadata "INBOX" "/private/vendor/spam" "on" { fileinto :specialuse "\\\\Junk" "Spam"; }',
    );
    const plan = await sieveForDelivery(
      await input(site, {
        mailboxesWithSpecialUse: (u) => (u === '\\Junk' ? ['user.fred.Junk'] : []),
        getMetadata: (mb, e) => (mb === 'user.fred' && e === '/private/vendor/spam' ? 'on' : undefined),
      }),
    );
    assert.deepEqual(plan?.deliveries, [{ mailbox: 'user.fred.Junk', flags: [], specialUse: '\\Junk' }]);
  } finally {
    site.cleanup();
  }
});

test('include :personal from the user store and :global from the global directory', async () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    st.put(
      'fred',
      'junk-rules',
      Buffer.from('require "fileinto"; if header :contains "x-spam-score" "7" { fileinto "Junk"; }'),
    );
    st.put(null, 'company', Buffer.from('require ["imap4flags"]; addflag "$company";'));
    activate(site, 'require ["include"]; include :global "company"; include "junk-rules";');
    const plan = await sieveForDelivery(await input(site));
    // the included global script's flags are the internal flags the personal one files with
    assert.deepEqual(plan?.deliveries, [{ mailbox: 'user.fred.Junk', flags: ['$company'] }]);
  } finally {
    site.cleanup();
  }
});

test('altnamespace off + unixhierarchysep off: "INBOX.lists" and "lists" resolve per namespace', async () => {
  const site = tempSite({ altnamespace: 'no', unixhierarchysep: 'no' });
  try {
    activate(site, 'require ["fileinto", "copy"]; fileinto :copy "INBOX.lists"; fileinto "INBOX.Junk";');
    const plan = await sieveForDelivery(await input(site));
    assert.deepEqual(plan?.deliveries, [
      { mailbox: 'user.fred.lists', flags: [] },
      { mailbox: 'user.fred.Junk', flags: [] },
    ]);
  } finally {
    site.cleanup();
  }
});

test('vacation :fcc files the reply (RFC 8580), creating the mailbox with :create', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["vacation", "fcc", "mailbox", "imap4flags"];\nvacation :fcc "Sent" :create :flags "\\\\Seen" :addresses "fred+lists@example.com" "away";',
    );
    const filed: { box: string; msg: string; flags: string[] }[] = [];
    const inp = await input(site, {
      fileCopy: async (box, msg, flags) => void filed.push({ box, msg: msg.toString(), flags }),
    });
    const plan = await sieveForDelivery(inp);
    assert.deepEqual(plan?.errors, []);
    assert.equal(filed.length, 1);
    assert.equal(filed[0]!.box, 'user.fred.Sent');
    assert.deepEqual(filed[0]!.flags, ['\\Seen']);
    assert.equal(filed[0]!.msg, site.sent()[0]!.input);
    assert.ok(inp.mailboxExists('user.fred.Sent'));
  } finally {
    site.cleanup();
  }
});

test('sieveusehomedir: ~user/.sieve from the passwd entry runs instead of sievedir', async () => {
  const site = tempSite({ sieveusehomedir: 'yes' });
  try {
    const home = join(site.dir, 'home-fred');
    mkdirSync(home);
    const passwd = join(site.dir, 'passwd');
    writeFileSync(passwd, `root:x:0:0:root:/root:/bin/sh\nfred:x:1000:1000:Fred:${home}:/bin/sh\n`);
    activate(site, 'discard;'); // ignored: sievedir is not used
    assert.equal(await sieveForDelivery(await input(site, { passwdFile: passwd })), null);
    writeFileSync(join(home, '.sieve'), 'require "fileinto"; fileinto "Junk";');
    const plan = await sieveForDelivery(await input(site, { passwdFile: passwd }));
    assert.deepEqual(plan?.deliveries, [{ mailbox: 'user.fred.Junk', flags: [] }]);
    assert.equal(
      await sieveForDelivery(await input(site, { passwdFile: passwd, userid: 'nobody-here' })),
      null,
    );
  } finally {
    site.cleanup();
  }
});

test("fileinto another user's or a shared mailbox needs 'p' (mayPost); :create never outside the own hierarchy", async () => {
  const site = tempSite({ altnamespace: 'no', unixhierarchysep: 'no' });
  try {
    activate(
      site,
      'require ["fileinto", "mailbox", "copy"];\nfileinto :copy "user.bob";\nfileinto :copy "shared.list";\nfileinto :copy :create "shared.new";',
    );
    const created: string[] = [];
    const existing = new Set(['user.fred', 'user.bob', 'shared.list']);
    const base = {
      mailboxExists: (n: string) => existing.has(n),
      createMailbox: (n: string) => void created.push(n),
    };
    let plan = await sieveForDelivery(await input(site, base));
    assert.deepEqual(plan?.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.equal(plan?.errors.length, 3);
    assert.ok(plan?.errors.every((e) => /no permission to post/.test(e)));
    plan = await sieveForDelivery(await input(site, { ...base, mayPost: (n) => n === 'shared.list' }));
    assert.deepEqual(plan?.deliveries, [
      { mailbox: 'user.fred', flags: [] },
      { mailbox: 'shared.list', flags: [] },
    ]);
    plan = await sieveForDelivery(await input(site, { ...base, mayPost: () => true }));
    assert.match(plan!.errors.join(), /shared\.new does not exist/);
    assert.deepEqual(created, []);
  } finally {
    site.cleanup();
  }
});

test('generated messages cannot gain header fields from script or URL text', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["enotify", "vacation"];\n' +
        'notify :from "me@example.com\r\nBcc: evil@example.net" "mailto:fred@phone.example?subject=Hi%0D%0ABcc:%20evil@example.net";\n' +
        'notify "mailto:evil%0D%0ABcc:x@example.net@example.com";\n' +
        'vacation :from "fred@example.com\r\nBcc: evil@example.net" :addresses "fred+lists@example.com" "away";',
    );
    const plan = await sieveForDelivery(await input(site));
    assert.match(plan!.errors.join(), /notify: invalid recipient/);
    const sent = site.sent();
    assert.equal(sent.length, 2);
    for (const m of sent) {
      const head = m.input.slice(0, m.input.indexOf('\r\n\r\n'));
      assert.ok(!/^Bcc:/im.test(head), head);
    }
  } finally {
    site.cleanup();
  }
});

test('redirect after editheader sends the edited header and the original body', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require "editheader";\naddheader "X-Via" "fred";\ndeleteheader "x-spam-score";\nredirect "boss@example.net";',
    );
    await sieveForDelivery(await input(site));
    const sent = site.sent();
    assert.equal(sent.length, 1);
    const m = sent[0]!.input;
    assert.ok(
      m.startsWith(
        'X-Sieve-Redirected-From: fred@example.com\r\nX-Via: fred\r\nReturn-Path: <alice@example.org>\r\n',
      ),
      m,
    );
    assert.ok(!m.includes('X-Spam-Score'));
    assert.ok(m.endsWith('X-Priority: 12\r\n\r\nHello Fred,\r\nthe numbers are in. Budget approved.\r\n'), m);
  } finally {
    site.cleanup();
  }
});

test('fileinto :mailboxid prefers the mailbox with that id, else the name (RFC 9042)', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["mailboxid", "fileinto", "copy"];\nfileinto :copy :mailboxid "id-junk" "Renamed";\nfileinto :mailboxid "id-gone" "lists";',
    );
    const plan = await sieveForDelivery(
      await input(site, { mailboxById: (id) => (id === 'id-junk' ? 'user.fred.Junk' : undefined) }),
    );
    assert.deepEqual(plan?.deliveries, [
      { mailbox: 'user.fred.Junk', flags: [] },
      { mailbox: 'user.fred.lists', flags: [] },
    ]);
  } finally {
    site.cleanup();
  }
});

test('body :text / :content read decoded MIME parts with their case; :raw the undecoded body', async () => {
  const site = tempSite();
  try {
    const mime = [
      'From: alice@example.org',
      'To: fred@example.com',
      'Subject: parts',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 Budget APPROVED',
      '--b1',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF-1.4 secret-plan').toString('base64'),
      '--b1--',
      '',
    ].join('\r\n');
    activate(
      site,
      'require ["body", "fileinto", "copy"];\n' +
        'if body :comparator "i;octet" :contains "Café Budget APPROVED" { fileinto :copy "octet"; }\n' +
        'if body :content "application/pdf" :contains "secret-plan" { fileinto :copy "pdf"; }\n' +
        'if body :content "text" :contains "secret-plan" { fileinto :copy "never"; }\n' +
        'if body :raw :contains "Caf=E9" { fileinto :copy "raw"; }\n' +
        'if body :text :contains "%PDF" { fileinto :copy "never2"; }',
    );
    const existing = new Set([
      'user.fred',
      'user.fred.octet',
      'user.fred.pdf',
      'user.fred.raw',
      'user.fred.never',
      'user.fred.never2',
    ]);
    const plan = await sieveForDelivery(
      await input(site, { message: mime, mailboxExists: (n) => existing.has(n) }),
    );
    assert.deepEqual(
      plan?.deliveries.map((d) => d.mailbox),
      ['user.fred.octet', 'user.fred.pdf', 'user.fred.raw', 'user.fred'],
    );
  } finally {
    site.cleanup();
  }
});

test('redirect-dsn: :notify and :ret become sendmail -N / -R', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["redirect-dsn", "copy"];\nredirect :copy :notify "success,failure" :ret "hdrs" "boss@example.net";',
    );
    const plan = await sieveForDelivery(await input(site));
    assert.deepEqual(plan?.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.deepEqual(site.sent()[0]!.args, [
      '-N',
      'SUCCESS,FAILURE',
      '-R',
      'HDRS',
      '-f',
      'alice@example.org',
      '--',
      'boss@example.net',
    ]);
    activate(site, 'require "redirect-dsn";\nredirect :notify "sometimes" "boss@example.net";');
    const bad = await sieveForDelivery(await input(site));
    assert.deepEqual(bad?.deliveries, [{ mailbox: 'user.fred', flags: [] }]);
    assert.match(bad!.errors[0]!, /invalid :notify value/);
  } finally {
    site.cleanup();
  }
});

test('vnd.cyrus.log writes a line to the server log', async () => {
  const site = tempSite();
  try {
    activate(
      site,
      'require ["vnd.cyrus.log", "variables"];\nif header :matches "subject" "*" { log "got ${1}"; }',
    );
    const log = memoryLogger('lmtp');
    await sieveForDelivery(await input(site, { log }));
    assert.ok(
      log.lines.some((l) => l.includes('sieve log: fred: got [cyrus-devel] Weekly report')),
      log.lines.join('\n'),
    );
  } finally {
    site.cleanup();
  }
});
