/**
 * Script store: Cyrus's sievedir layout, defaultbc, compiled-form recompilation. Issue #8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SieveStore, SieveStoreError, validScriptName } from './store.js';
import { SieveCheckError } from './checker.js';
import { tempSite } from './test-helpers.js';

test('layout: <sievedir>/<h>/<user>/, virtdomains, global; names', () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    assert.equal(st.dir('fred'), join(site.sievedir, 'f', 'fred'));
    assert.equal(st.dir('9lives'), join(site.sievedir, 'q', '9lives'));
    assert.equal(st.dir(null), join(site.sievedir, 'global'));
    const vsite = tempSite({ virtdomains: 'userid' });
    const vd = new SieveStore(vsite.conf);
    assert.equal(vd.dir('joe@example.com').split('/sieve/')[1], 'domain/e/example.com/j/joe');
    vsite.cleanup();
    assert.ok(validScriptName('My script'));
    for (const bad of ['', '../x', 'a/b', '.hidden', 'a\nb', 'x'.repeat(201)])
      assert.ok(!validScriptName(bad), bad);
  } finally {
    site.cleanup();
  }
});

test('put writes .script and .bc; a bad script writes nothing', () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    assert.throws(() => st.put('fred', 'bad', Buffer.from('frob;')), SieveCheckError);
    assert.equal(existsSync(join(st.dir('fred'), 'bad.script')), false);
    st.put('fred', 'good', Buffer.from('keep;'));
    assert.equal(readFileSync(join(st.dir('fred'), 'good.script'), 'utf8'), 'keep;');
    assert.ok(readFileSync(join(st.dir('fred'), 'good.bc'), 'utf8').startsWith('CYRUS-TS-SIEVE 1\n'));
    assert.deepEqual(st.list('fred'), [{ name: 'good', active: false }]);
    assert.throws(() => st.put('fred', '../evil', Buffer.from('keep;')), SieveStoreError);
  } finally {
    site.cleanup();
  }
});

test('activate via defaultbc symlink, deactivate, rename keeps it active', () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    st.put('fred', 'a', Buffer.from('keep;'));
    st.setActive('fred', 'a');
    assert.equal(readlinkSync(join(st.dir('fred'), 'defaultbc')), 'a.bc');
    assert.equal(st.activeName('fred'), 'a');
    st.rename('fred', 'a', 'b');
    assert.equal(st.activeName('fred'), 'b');
    assert.throws(
      () => st.delete('fred', 'b'),
      (e: unknown) => e instanceof SieveStoreError && e.code === 'ACTIVE',
    );
    st.setActive('fred', '');
    assert.equal(st.activeName('fred'), null);
    st.delete('fred', 'b');
    assert.deepEqual(st.list('fred'), []);
    assert.throws(
      () => st.setActive('fred', 'b'),
      (e: unknown) => e instanceof SieveStoreError && e.code === 'NONEXISTENT',
    );
  } finally {
    site.cleanup();
  }
});

test('compiled(): recompiles when the source is newer than the .bc or the .bc is of another version', () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    st.put('fred', 'a', Buffer.from('keep;'));
    const dir = st.dir('fred');
    assert.equal(st.compiled('fred', 'a')!.commands[0]!.name, 'keep');
    // an administrator edits the source by hand: newer than the .bc
    writeFileSync(join(dir, 'a.script'), 'discard;');
    const future = new Date(Date.now() + 10_000);
    utimesSync(join(dir, 'a.script'), future, future);
    assert.equal(st.compiled('fred', 'a')!.commands[0]!.name, 'discard');
    assert.match(readFileSync(join(dir, 'a.bc'), 'utf8'), /"discard"/);
    // a .bc from another format version is ignored and rewritten
    writeFileSync(join(dir, 'a.bc'), 'CYRUS-TS-SIEVE 0\n{}');
    utimesSync(join(dir, 'a.bc'), new Date(Date.now() + 20_000), new Date(Date.now() + 20_000));
    const fresh = new SieveStore(site.conf);
    writeFileSync(join(dir, 'a.script'), 'stop;');
    utimesSync(join(dir, 'a.script'), new Date(Date.now() + 15_000), new Date(Date.now() + 15_000));
    assert.equal(fresh.compiled('fred', 'a')!.commands[0]!.name, 'stop');
    assert.equal(st.compiled('fred', 'nosuch'), null);
  } finally {
    site.cleanup();
  }
});

test('usage counts scripts and bytes', () => {
  const site = tempSite();
  try {
    const st = new SieveStore(site.conf);
    st.put('fred', 'a', Buffer.from('keep;'));
    st.put('fred', 'b', Buffer.from('discard;'));
    assert.deepEqual(st.usage('fred'), { count: 2, bytes: 13 });
    assert.deepEqual(st.usage('fred', 'a'), { count: 1, bytes: 8 });
    assert.deepEqual(st.limits(), { maxScripts: 5, maxSize: 32768 });
  } finally {
    site.cleanup();
  }
});
