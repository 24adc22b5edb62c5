import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aclFromPairs, applyAcl, effectiveRights, formatRights, parseAcl, parseRights } from './acl.js';
import { admin, user } from './test-helpers.js';

test('legacy c and d expand as Cyrus does; output is canonical', () => {
  assert.equal(formatRights(parseRights('c')), 'kxc');
  assert.equal(formatRights(parseRights('d')), 'xted');
  assert.equal(formatRights(parseRights('lrswipkxtecdan')), 'lrswipkxtecdan');
  assert.equal(formatRights(parseRights('arl')), 'lra');
  assert.equal(formatRights(parseRights('lrs9')), 'lrs9');
  assert.throws(() => parseRights('lrZ'));
});

test('effective rights: union of anyone, user and groups; negative entries subtract', () => {
  const acl = 'anyone\tlr\tfred\tsw\tgroup:staff\ti\t-fred\tr\t';
  assert.equal(effectiveRights(user('fred', ['group:staff']), acl, null, 'lkxan'), 'lswi');
  assert.equal(effectiveRights(user('bob'), acl, null, 'lkxan'), 'lr');
  assert.equal(effectiveRights(user('anonymous'), 'anonymous\tl\t', null, ''), 'l');
  assert.equal(effectiveRights(user('bob'), 'anonymous\tl\t', null, ''), '');
});

test('owner gets implicit rights, admins get everything', () => {
  assert.equal(effectiveRights(user('fred'), '', 'fred', 'lkxan'), 'lkxcan');
  assert.equal(effectiveRights(user('fred'), '-fred\tk\t', 'fred', 'lkxan'), 'lxan');
  assert.equal(effectiveRights(user('bob'), '', 'fred', 'lkxan'), '');
  assert.equal(effectiveRights(admin, '', 'fred', 'lkxan'), 'lrswipkxtecdan');
});

test('SETACL arithmetic: set, +add, -remove, delete', () => {
  let acl = 'fred\tlrswipkxtecdan\t';
  acl = applyAcl(acl, 'bob', 'lr');
  assert.equal(parseAcl(acl).get('bob'), 'lr');
  acl = applyAcl(acl, 'bob', '+sw');
  assert.equal(parseAcl(acl).get('bob'), 'lrsw');
  acl = applyAcl(acl, 'bob', '-rd');
  assert.equal(parseAcl(acl).get('bob'), 'lsw');
  acl = applyAcl(acl, 'bob', '-lsw');
  assert.equal(parseAcl(acl).has('bob'), false);
  acl = applyAcl(acl, 'fred', null);
  assert.equal(acl, '');
  assert.equal(aclFromPairs('anyone lrs'), 'anyone\tlrs\t');
});
