import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDbDump, unescapeDumpLine } from './sasldb-import.js';

const DUMP = `VERSION=3
format=print
type=hash
h_nelem=2
db_pagesize=4096
HEADER=END
 joe\\00example.com\\00userPassword
 x
 user1\\00vm\\00userPassword
 pa:ss w\\5c\\\\\\0a
 odd-key-without-nuls
 value
DATA=END
`;

test('db_dump -p output: keys split into user, realm, property; escapes undone', () => {
  const e = parseDbDump(DUMP);
  assert.equal(e.length, 2);
  assert.deepEqual(
    e.map((x) => [x.user, x.realm, x.property]),
    [
      ['joe', 'example.com', 'userPassword'],
      ['user1', 'vm', 'userPassword'],
    ],
  );
  assert.equal(e[1].value.toString('latin1'), 'pa:ss w\\\\\n');
  assert.deepEqual(unescapeDumpLine('a\\00b'), Buffer.from([0x61, 0, 0x62]));
  assert.throws(() => unescapeDumpLine('a\\zz'));
  assert.throws(() => parseDbDump('format=bytevalue\nHEADER=END\n'));
});
