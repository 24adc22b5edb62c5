// The option table checks itself: every default parses as its own type, every deprecated option
// names an existing replacement, every spec'd option of imapd-conf.md is present with its type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowedValues,
  IMAP_OPTIONS,
  IMPLIED_PATHS,
  optionNames,
  optionSpec,
  type OptionSpec,
} from './imapoptions.js';
import { checkValue } from './values.js';

const table: Record<string, OptionSpec> = IMAP_OPTIONS;

test('every default is a valid value of its option', () => {
  for (const name of optionNames()) {
    const spec = table[name]!;
    if (spec.default === null) continue;
    if (spec.type === 'switch') {
      assert.equal(typeof spec.default, 'boolean', name);
      continue;
    }
    if (spec.type === 'int') {
      assert.equal(typeof spec.default, 'number', name);
      continue;
    }
    const text = String(spec.default);
    if (spec.type === 'bitfield' && text === '') continue;
    if (spec.db) {
      assert.ok(spec.values!.includes(text), name);
      continue;
    }
    const r = checkValue(text, spec);
    assert.ok(r.ok, `${name}: default '${text}' is not a valid ${spec.type}`);
  }
});

test('units, allowed values and deprecations are consistent', () => {
  for (const name of optionNames()) {
    const spec = table[name]!;
    assert.match(name, /^[a-z0-9_]+$/, name);
    if (spec.type === 'duration') assert.ok(['d', 'h', 'm', 's'].includes(spec.unit ?? ''), `${name} unit`);
    if (spec.type === 'bytesize') assert.ok(['B', 'K', 'M', 'G'].includes(spec.unit ?? ''), `${name} unit`);
    if (['enum', 'stringlist', 'bitfield'].includes(spec.type)) {
      assert.ok((spec.values ?? []).length > 0, `${name} values`);
      const names = allowedValues(spec).map((v) => v.canonical);
      assert.equal(new Set(names).size, names.length, `${name} duplicate values`);
    }
    if (spec.replacedBy) {
      assert.ok(spec.deprecated, `${name} has replacedBy but no deprecated`);
      assert.ok(optionSpec(spec.replacedBy), `${name} → ${spec.replacedBy} missing`);
      assert.equal(
        optionSpec(spec.replacedBy)!.deprecated,
        undefined,
        `${name} → deprecated ${spec.replacedBy}`,
      );
    }
    assert.match(spec.since, /^[0-9]+\.[0-9]+\.[0-9]+$/, `${name} since`);
  }
  for (const name of Object.keys(IMPLIED_PATHS)) {
    assert.equal(optionSpec(name)?.default, null, `${name} is implied only when it has no default`);
  }
});

test('the options of spec imapd-conf.md are in the table with their 3.6 type and default', () => {
  const expect: [string, OptionSpec['type'], string | number | boolean | null][] = [
    ['configdirectory', 'path', null],
    ['defaultpartition', 'string', null],
    ['partition_select_mode', 'stringlist', 'freespace-most'],
    ['hashimapspool', 'switch', false],
    ['fulldirhash', 'switch', false],
    ['sievedir', 'path', '/usr/sieve'],
    ['sieve_folder', 'string', '#sieve'],
    ['temp_path', 'path', '/tmp'],
    ['lmtpsocket', 'path', '{configdirectory}/socket/lmtp'],
    ['idlesocket', 'path', '{configdirectory}/socket/idle'],
    ['notifysocket', 'path', '{configdirectory}/socket/notify'],
    ['umask', 'string', '077'],
    ['serverinfo', 'enum', 'on'],
    ['admins', 'string', ''],
    ['allowplaintext', 'switch', false],
    ['allowapop', 'switch', true],
    ['sasl_minimum_layer', 'int', 0],
    ['sasl_maximum_layer', 'int', 256],
    ['failedloginpause', 'duration', '3s'],
    ['virtdomains', 'enum', 'off'],
    ['defaultdomain', 'string', 'internal'],
    ['altnamespace', 'switch', true],
    ['unixhierarchysep', 'switch', true],
    ['userprefix', 'string', 'Other Users'],
    ['defaultacl', 'string', 'anyone lrs'],
    ['implicit_owner_rights', 'string', 'lkxan'],
    ['delete_mode', 'enum', 'delayed'],
    ['expunge_mode', 'enum', 'delayed'],
    ['autocreate_quota', 'bytesize', -1],
    ['autocreate_post', 'switch', false],
    ['tls_client_certs', 'enum', 'optional'],
    ['tls_versions', 'string', 'tls1_0 tls1_1 tls1_2 tls1_3'],
    ['tls_session_timeout', 'duration', '24h'],
    ['quotawarn', 'int', 90],
    ['duplicatesuppression', 'switch', true],
    ['lmtp_downcase_rcpt', 'switch', true],
    ['maxmessagesize', 'bytesize', 0],
    ['singleinstancestore', 'switch', true],
    ['sieve_maxscripts', 'int', 5],
    ['sieve_maxscriptsize', 'bytesize', 32],
    ['timeout', 'duration', '32m'],
    ['poptimeout', 'duration', '10m'],
    ['nntptimeout', 'duration', '3m'],
    ['imapidlepoll', 'duration', '60s'],
    ['maxword', 'bytesize', 131072],
    ['maxquoted', 'bytesize', 131072],
    ['maxheaderlines', 'int', 1000],
    ['uidl_format', 'enum', 'cyrus'],
    ['search_engine', 'enum', 'none'],
    ['mupdate_port', 'int', 3905],
    ['proxy_authname', 'string', 'proxy'],
    ['sync_try_imap', 'switch', true],
    ['sync_batchsize', 'int', 8192],
    ['sync_timeout', 'duration', '30m'],
  ];
  for (const [name, type, dflt] of expect) {
    const spec = optionSpec(name);
    assert.ok(spec, `${name} missing`);
    assert.equal(spec.type, type, `${name} type`);
    assert.equal(spec.default, dflt, `${name} default`);
  }
  assert.equal(optionSpec('timeout')!.unit, 'm');
  assert.equal(optionSpec('tls_session_timeout')!.unit, 'm');
  assert.equal(optionSpec('archive_after')!.unit, 'd');
  assert.equal(optionSpec('sieve_maxscriptsize')!.unit, 'K');
  assert.equal(optionSpec('mboxlist_db')!.cyrusDefault, 'twoskip');
  assert.equal(optionSpec('quota_db')!.cyrusDefault, 'quotalegacy');
  assert.ok(optionNames().length >= 520);
});
