/**
 * The Sieve corpus: one case per behaviour, each a script, a message, an envelope and the
 * exact actions (and implicit keep) expected. Covers the base language and every extension
 * we announce. Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOn, MSG, ALL, type RunOpts } from './test-helpers.js';
import type { Action } from './interpreter.js';
import { SieveRuntimeError, MAX_VARIABLE } from './interpreter.js';

interface Case {
  name: string;
  script: string;
  message?: string;
  opts?: RunOpts;
  actions: Action[];
  keep: boolean;
  keepFlags?: string[];
  edits?: unknown[];
}

const fi = (
  mailbox: string,
  flags: string[] = [],
  extra: Partial<Extract<Action, { type: 'fileinto' }>> = {},
): Action => ({
  type: 'fileinto',
  mailbox,
  flags,
  create: false,
  copy: false,
  ...extra,
});

const CASES: Case[] = [
  { name: 'empty script: implicit keep', script: '', actions: [], keep: true },
  { name: 'keep is explicit', script: 'keep;', actions: [{ type: 'keep', flags: [] }], keep: false },
  { name: 'discard cancels implicit keep', script: 'discard;', actions: [{ type: 'discard' }], keep: false },
  {
    name: 'header :contains, fileinto',
    script: 'require "fileinto";\nif header :contains "subject" "cyrus-devel" { fileinto "INBOX.lists"; }',
    actions: [fi('INBOX.lists')],
    keep: false,
  },
  {
    name: 'header test decodes RFC 2047',
    script: 'require "fileinto"; if header :contains "Subject" "café" { fileinto "cafe"; }',
    actions: [fi('cafe')],
    keep: false,
  },
  {
    name: 'header :is is case-insensitive by default (i;ascii-casemap)',
    script: 'if header :is "x-priority" "12" { discard; }',
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'i;octet is case-sensitive',
    script: 'if header :comparator "i;octet" :contains "subject" "WEEKLY" { discard; }',
    actions: [],
    keep: true,
  },
  {
    name: 'address :domain / :localpart / :all',
    script:
      'require "fileinto";\nif address :domain :is "from" "example.org" { fileinto "a"; }\n' +
      'if address :localpart :is "cc" "carol" { fileinto "b"; }\nif address :all :is "to" "bob@example.net" { fileinto "c"; }',
    actions: [fi('a'), fi('b'), fi('c')],
    keep: false,
  },
  {
    name: 'address :matches with a quoted comma in the display name',
    script: 'if address :matches "cc" "*@example.com" { discard; }',
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'subaddress :user / :detail on address and envelope',
    script:
      'require ["subaddress", "envelope", "fileinto"];\nif address :detail "to" "lists" { fileinto "lists"; }\n' +
      'if envelope :user "to" "fred" { fileinto "fred"; }\nif envelope :detail "to" "x" { fileinto "never"; }',
    opts: { to: 'fred+y@example.com' },
    actions: [fi('lists'), fi('fred')],
    keep: false,
  },
  {
    name: ':detail of an address without separator never matches, even "*"',
    script: 'require "subaddress"; if address :detail :matches "from" "*" { discard; }',
    actions: [],
    keep: true,
  },
  {
    name: 'envelope from with the null sender',
    script: 'require "envelope"; if envelope :is "from" "" { discard; }',
    opts: { from: '' },
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'if / elsif / else picks one branch',
    script:
      'require "fileinto";\nif header :is "subject" "nope" { fileinto "1"; }\nelsif exists "x-nothere" { fileinto "2"; }\nelse { fileinto "3"; }',
    actions: [fi('3')],
    keep: false,
  },
  {
    name: 'stop ends the script',
    script: 'require "fileinto"; fileinto "a"; stop; fileinto "b";',
    actions: [fi('a')],
    keep: false,
  },
  {
    name: 'exists, size, not, allof, anyof',
    script:
      'if allof (exists ["from", "date"], size :under 10K, not size :over 1M, anyof (false, true)) { discard; }',
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'size :over is strict',
    script: 'if size :over 100000 { discard; }',
    actions: [],
    keep: true,
  },
  {
    name: 'reject',
    script: 'require "reject"; reject "go away";',
    actions: [{ type: 'reject', reason: 'go away', ereject: false }],
    keep: false,
  },
  {
    name: 'ereject',
    script: 'require "ereject"; ereject "no";',
    actions: [{ type: 'reject', reason: 'no', ereject: true }],
    keep: false,
  },
  {
    name: 'multi-line text: string with dot-stuffing',
    script: 'require "reject";\nreject text:\nline one\n..dot\n.\n;',
    actions: [{ type: 'reject', reason: 'line one\r\n.dot\r\n', ereject: false }],
    keep: false,
  },
  {
    name: 'imap4flags: setflag/addflag/removeflag, fileinto :flags, implicit keep takes the internal flags',
    script:
      'require ["imap4flags", "fileinto", "copy"];\nsetflag "\\\\Seen";\naddflag ["$Work", "\\\\Flagged $Work"];\nremoveflag "\\\\Seen";\n' +
      'fileinto :copy :flags "\\\\Answered" "Archive";',
    actions: [fi('Archive', ['\\Answered'], { copy: true })],
    keep: true,
    keepFlags: ['$Work', '\\Flagged'],
  },
  {
    name: 'imap4flags: hasflag and flags in a variable',
    script:
      'require ["imap4flags", "variables", "relational", "comparator-i;ascii-numeric"];\nset "f" "";\naddflag "f" "$A $B";\nif hasflag "f" "$b" { addflag "\\\\Seen"; }\nif hasflag :count "eq" :comparator "i;ascii-numeric" "f" "2" { keep; }',
    actions: [{ type: 'keep', flags: ['\\Seen'] }],
    keep: false,
  },
  {
    name: 'variables: :matches captures and modifiers',
    script:
      'require ["variables", "fileinto"];\nif header :matches "subject" "[*] *" { set :lower :upperfirst "list" "${1}"; fileinto "Lists.${list}"; }\n' +
      'set :length "n" "héllo"; if string :is "${n}" "5" { keep; }',
    actions: [fi('Lists.Cyrus-devel'), { type: 'keep', flags: [] }],
    keep: false,
  },
  {
    name: 'variables: unknown variables expand to empty, ${} text kept',
    script: 'require ["variables", "reject"]; reject "a${nope}b${1}c${}";',
    actions: [{ type: 'reject', reason: 'abc${}', ereject: false }],
    keep: false,
  },
  {
    name: 'variables: :quotewildcard',
    script: 'require ["variables", "reject"]; set :quotewildcard "q" "a*b?c\\\\"; reject "${q}";',
    actions: [{ type: 'reject', reason: 'a\\*b\\?c\\\\', ereject: false }],
    keep: false,
  },
  {
    name: 'relational :count on Received and :value with i;ascii-numeric',
    script:
      'require ["relational", "comparator-i;ascii-numeric", "fileinto"];\n' +
      'if header :count "ge" :comparator "i;ascii-numeric" "received" "2" { fileinto "two"; }\n' +
      'if header :value "gt" :comparator "i;ascii-numeric" "x-priority" "9" { fileinto "big"; }\n' +
      'if header :value "gt" "x-priority" "9" { fileinto "never"; }',
    actions: [fi('two'), fi('big')],
    keep: false,
  },
  {
    name: 'regex with captures',
    script:
      'require ["regex", "variables", "fileinto"];\nif header :regex "subject" "^\\\\[([a-z-]+)\\\\]" { fileinto "list/${1}"; }',
    actions: [fi('list/cyrus-devel')],
    keep: false,
  },
  {
    name: 'regex POSIX classes',
    script: 'require "regex"; if header :regex "message-id" "^<[[:alpha:]]+-[[:digit:]]@" { discard; }',
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'body :contains',
    script: 'require ["body", "fileinto"]; if body :contains "budget approved" { fileinto "Finance"; }',
    actions: [fi('Finance')],
    keep: false,
  },
  {
    name: 'body :content for non-text types does not match text',
    script: 'require "body"; if body :content "image" :contains "budget" { discard; }',
    actions: [],
    keep: true,
  },
  {
    name: 'date :originalzone, :zone conversion, currentdate',
    script:
      'require ["date", "relational", "fileinto"];\n' +
      'if date :originalzone "date" "hour" "23" { fileinto "orig"; }\n' +
      'if date :zone "+0000" "date" "date" "2026-11-28" { fileinto "utc"; }\n' +
      'if date :zone "+0000" "date" "weekday" "6" { fileinto "saturday"; }\n' +
      'if currentdate :zone "+0100" "iso8601" "2026-11-28T13:00:00+01:00" { fileinto "now"; }\n' +
      'if currentdate :value "ge" "date" "2026-01-01" { fileinto "this-year"; }',
    actions: [fi('orig'), fi('utc'), fi('saturday'), fi('now'), fi('this-year')],
    keep: false,
  },
  {
    name: 'index :index / :last on Received',
    script:
      'require ["index", "fileinto"];\nif header :index 2 :contains "received" "from c" { fileinto "second"; }\n' +
      'if header :index 1 :last :contains "received" "from c" { fileinto "last"; }\n' +
      'if header :index 3 :contains "received" "from" { fileinto "never"; }',
    actions: [fi('second'), fi('last')],
    keep: false,
  },
  {
    name: 'copy: redirect :copy keeps the implicit keep; plain redirect cancels it',
    script: 'require "copy"; redirect :copy "boss@example.com";',
    actions: [{ type: 'redirect', address: 'boss@example.com', copy: true }],
    keep: true,
  },
  {
    name: 'redirect twice to the same address is one action',
    script: 'redirect "x@example.com"; redirect "X@example.com";',
    actions: [{ type: 'redirect', address: 'x@example.com', copy: false }],
    keep: false,
  },
  {
    name: 'mailbox: mailboxexists and fileinto :create',
    script:
      'require ["mailbox", "fileinto"];\nif mailboxexists "Junk" { fileinto "Junk"; } else { fileinto :create "Other"; }',
    opts: { env: { mailboxExists: (n: string) => n === 'Other' } },
    actions: [fi('Other', [], { create: true })],
    keep: false,
  },
  {
    name: 'editheader: added header is seen by later tests, deleted one is not',
    script:
      'require ["editheader", "fileinto"];\naddheader "X-Tagged" "yes";\ndeleteheader "x-spam-score";\n' +
      'if header :is "x-tagged" "yes" { fileinto "tagged"; }\nif exists "x-spam-score" { fileinto "never"; }',
    actions: [fi('tagged')],
    keep: false,
    edits: [
      { op: 'add', name: 'X-Tagged', value: 'yes', last: false },
      { op: 'delete', name: 'x-spam-score', values: ['7.3'] },
    ],
  },
  {
    name: 'editheader: deleteheader never removes Received',
    script:
      'require ["editheader", "relational"]; deleteheader "received"; if header :count "eq" "received" "2" { discard; }',
    opts: { enabled: ALL },
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'vacation with :days, :subject, :from, :addresses, :handle',
    script:
      'require "vacation";\nvacation :days 3 :subject "Away" :from "fred@example.com" :addresses ["f@example.com"] :handle "h1" "I am away.";',
    actions: [
      {
        type: 'vacation',
        reason: 'I am away.',
        subject: 'Away',
        from: 'fred@example.com',
        addresses: ['f@example.com'],
        mime: false,
        handle: 'h1',
        seconds: 3 * 86400,
      },
    ],
    keep: true,
  },
  {
    name: 'vacation-seconds and fcc',
    script: 'require ["vacation", "vacation-seconds", "fcc"]; vacation :seconds 60 :fcc "Sent" "brb";',
    actions: [
      {
        type: 'vacation',
        reason: 'brb',
        addresses: [],
        mime: false,
        handle: '\0\0brb',
        seconds: 60,
        fcc: { mailbox: 'Sent', create: false, flags: [] },
      },
    ],
    keep: true,
  },
  {
    name: 'enotify: notify mailto with options, valid_notify_method',
    script:
      'require "enotify";\nif valid_notify_method "mailto:fred@example.com" {\n' +
      '  notify :importance "1" :message "new mail" "mailto:fred@example.com";\n}\n' +
      'if notify_method_capability "mailto:x@example.com" "online" "maybe" { discard; }\n' +
      'if valid_notify_method "xmpp:fred@example.com" { keep; }',
    actions: [
      {
        type: 'notify',
        method: 'mailto:fred@example.com',
        importance: '1',
        options: [],
        message: 'new mail',
      },
      { type: 'discard' },
    ],
    keep: false,
  },
  {
    name: 'spamtest and spamtestplus :percent, virustest',
    script:
      'require ["spamtest", "spamtestplus", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];\n' +
      'if spamtest :value "ge" :comparator "i;ascii-numeric" "5" { fileinto "Junk"; }\n' +
      'if spamtest :percent :value "eq" :comparator "i;ascii-numeric" "73" { fileinto "pct"; }\n' +
      'if virustest :value "eq" :comparator "i;ascii-numeric" "0" { fileinto "untested"; }',
    actions: [fi('Junk'), fi('pct'), fi('untested')],
    keep: false,
  },
  {
    name: 'fcc on notify with :create and :flags; enotify :encodeurl',
    script:
      'require ["enotify", "fcc", "mailbox", "imap4flags", "variables"];\n' +
      'set :encodeurl "s" "a b&c";\nnotify :fcc "Notes" :create :flags "\\\\Seen" "mailto:x@example.com?subject=${s}";',
    actions: [
      {
        type: 'notify',
        method: 'mailto:x@example.com?subject=a%20b%26c',
        importance: '2',
        options: [],
        fcc: { mailbox: 'Notes', create: true, flags: ['\\Seen'] },
      },
    ],
    keep: true,
  },
  {
    name: 'body default match type is :is on the whole text',
    script: 'require "body"; if body "budget" { discard; } if body :matches "*budget approved*" { keep; }',
    actions: [{ type: 'keep', flags: [] }],
    keep: false,
  },
  {
    name: 'mailboxid: fileinto :mailboxid, mailboxidexists',
    script:
      'require ["mailboxid", "fileinto"];\nif mailboxidexists "F2212-id" { fileinto :mailboxid "F2212-id" "Old"; }\nif mailboxidexists ["F2212-id", "nope"] { keep; }',
    opts: { env: { mailboxIdExists: (id: string) => id === 'F2212-id' } },
    actions: [fi('Old', [], { mailboxId: 'F2212-id' })],
    keep: false,
  },
  {
    name: 'legacy notify (draft-martin) and denotify, as Cyrus scripts from the 2.x days use them',
    script:
      'require "notify";\n' +
      'notify :method "mailto" :id "a" :options ["pager@example.com", "x@example.com"] :high :message "$from$ wrote: $subject$";\n' +
      'notify :id "b" :options "y@example.com";\n' +
      'notify :method "zephyr" :options "z";\n' +
      'denotify :is "b";',
    actions: [
      {
        type: 'notify',
        method: 'mailto:pager@example.com?to=x%40example.com',
        importance: '1',
        options: [],
        message: 'Alice Example <alice@example.org> wrote: [cyrus-devel] Weekly report café',
        id: 'a',
      },
    ],
    keep: true,
  },
  {
    name: 'ihave: unavailable capability block is skipped, available one runs',
    script:
      'require ["ihave", "fileinto"];\nif ihave "x-nothing" { frobnicate "a"; }\nif ihave "variables" { set "a" "b"; fileinto "${a}"; }',
    actions: [fi('b')],
    keep: false,
  },
  {
    name: 'encoded-character',
    script: 'require ["encoded-character", "fileinto"]; fileinto "${hex:41 42}${unicode:263a}";',
    actions: [fi('AB\u263a')],
    keep: false,
  },
  {
    name: 'environment',
    script: 'require ["environment", "fileinto"]; if environment :is "location" "MDA" { fileinto "mda"; }',
    actions: [fi('mda')],
    keep: false,
  },
  {
    name: 'duplicate asks the tracking callback',
    script: 'require "duplicate"; if duplicate :handle "x" :seconds 60 { discard; }',
    opts: {
      env: {
        duplicate: (id: string, handle: string, secs: number) =>
          id === '<report-1@example.org>' && handle === 'x' && secs === 60,
      },
    },
    actions: [{ type: 'discard' }],
    keep: false,
  },
  {
    name: 'special-use: fileinto :specialuse, specialuse_exists',
    script:
      'require ["special-use", "fileinto"];\nif specialuse_exists "\\\\Junk" { fileinto :specialuse "\\\\Junk" "Spam"; }',
    opts: { env: { specialUseExists: (uses: string[]) => uses[0] === '\\Junk' } },
    actions: [fi('Spam', [], { specialUse: '\\Junk' })],
    keep: false,
  },
  {
    name: 'mboxmetadata / servermetadata',
    script:
      'require ["mboxmetadata", "servermetadata", "fileinto"];\n' +
      'if metadata "INBOX" "/private/comment" "vip" { fileinto "a"; }\n' +
      'if servermetadataexists "/shared/admin" { fileinto "b"; }\nif metadataexists "INBOX" "/private/nothing" { fileinto "never"; }',
    opts: {
      env: {
        metadata: (mb: string | null, e: string) =>
          mb === 'INBOX' && e === '/private/comment'
            ? 'VIP'
            : mb === null && e === '/shared/admin'
              ? 'x'
              : undefined,
      },
    },
    actions: [fi('a'), fi('b')],
    keep: false,
  },
  {
    name: 'include :personal with global variables and return',
    script:
      'require ["include", "variables", "fileinto"];\nglobal "folder";\nset "folder" "Inc";\ninclude "sub";\ninclude :once "sub";\ninclude :optional "missing";\nfileinto "after";',
    opts: {
      env: {
        include: (name: string) =>
          name === 'sub'
            ? {
                version: 1,
                requires: ['include', 'variables', 'fileinto'],
                commands: [
                  { name: 'global', tags: {}, pos: [['folder']], tests: [], line: 1 },
                  { name: 'fileinto', tags: {}, pos: ['${folder}'], tests: [], line: 2 },
                  { name: 'return', tags: {}, pos: [], tests: [], line: 3 },
                  { name: 'discard', tags: {}, pos: [], tests: [], line: 4 },
                ],
              }
            : null,
      },
    },
    actions: [fi('Inc'), fi('after')],
    keep: false,
  },
];

for (const c of CASES) {
  test(`corpus: ${c.name}`, () => {
    const r = runOn(c.script, c.message ?? MSG, c.opts);
    assert.deepEqual(r.actions, c.actions);
    assert.equal(r.implicitKeep, c.keep);
    if (c.keepFlags) assert.deepEqual(r.implicitKeepFlags, c.keepFlags);
    if (c.edits) assert.deepEqual(r.edits, c.edits);
  });
}

test('runtime: reject together with fileinto is an error (caller keeps the message)', () => {
  assert.throws(
    () => runOn('require ["reject", "fileinto"]; fileinto "a"; reject "no";', MSG),
    SieveRuntimeError,
  );
});

test('runtime: more than MAX_REDIRECTS redirects is an error', () => {
  const s = [1, 2, 3, 4, 5, 6].map((i) => `redirect "u${i}@example.com";`).join('\n');
  assert.throws(() => runOn(s, MSG), /too many redirect/);
  assert.equal(runOn(s.split('\n').slice(0, 5).join('\n'), MSG).actions.length, 5);
});

test('runtime: include of a missing script without :optional is an error', () => {
  assert.throws(
    () => runOn('require "include"; include "nope";', MSG, { env: { include: () => null } }),
    /does not exist/,
  );
});

test('runtime: two vacation actions are an error', () => {
  assert.throws(
    () => runOn('require "vacation"; vacation "a"; vacation :handle "2" "b";', MSG),
    /only one vacation/,
  );
});

test('runtime: ihave-guarded error command fails the script', () => {
  assert.throws(() => runOn('require "ihave"; error "boom";', MSG), /boom/);
});

test('regex: a catastrophic-backtracking pattern runs in linear time', () => {
  const evil = 'a'.repeat(5000) + '!';
  const t0 = Date.now();
  const r = runOn(
    'require "regex"; if header :regex "subject" "^(a+)+$" { discard; }',
    `Subject: ${evil}\r\nFrom: x@y\r\n\r\n`,
  );
  assert.deepEqual(r.actions, []);
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
});

test('regex: case-insensitive by default, captures keep the original case; classes', () => {
  const r = runOn(
    'require ["regex", "variables", "fileinto"];\nif header :regex "subject" "^\\\\[(CYRUS-[a-z]+)\\\\] ([[:alpha:]]+)" { fileinto "${1}/${2}"; }',
    MSG,
  );
  assert.deepEqual(r.actions, [fi('cyrus-devel/Weekly')]);
  const r2 = runOn(
    'require "regex"; if header :comparator "i;octet" :regex "subject" "WEEKLY" { discard; }',
    MSG,
  );
  assert.deepEqual(r2.actions, []);
});

test('variables: values are capped (a doubling script cannot exhaust memory)', () => {
  const doubling = Array.from({ length: 40 }, () => 'set "a" "${a}${a}";').join('\n');
  const r = runOn(`require ["variables", "reject"];\nset "a" "xy";\n${doubling}\nreject "\${a}";`, MSG);
  const a = r.actions[0] as { reason: string };
  assert.equal(a.reason.length, MAX_VARIABLE);
});

test(':matches globs run in linear time too', () => {
  const t0 = Date.now();
  const r = runOn(
    'if header :matches "subject" "*a*a*a*a*a*a*a*b" { discard; }',
    `Subject: ${'a'.repeat(20000)}\r\n\r\n`,
  );
  assert.deepEqual(r.actions, []);
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
  const r2 = runOn('if header :matches "subject" "\\[*\\]?WEEKLY*" { discard; }', MSG);
  assert.deepEqual(r2.actions, [{ type: 'discard' }]);
});
