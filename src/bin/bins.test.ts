/**
 * The installed programs: package.json's "bin" map lists exactly src/bin/cyr_*.ts, every name
 * carries the cyr_ prefix, and every program answers -h with its usage and exit status 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> };

test('package.json bin map is in step with src/bin', () => {
  const r = spawnSync(process.execPath, ['scripts/sync-bins.mjs', '--check'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const sources = readdirSync(join(root, 'src/bin')).filter((f) => /^cyr_.*\.ts$/.test(f) && !f.endsWith('.test.ts'));
  assert.deepEqual(Object.keys(pkg.bin).sort(), sources.map((f) => f.replace(/\.ts$/, '')).sort());
});

for (const [name, file] of Object.entries(pkg.bin)) {
  test(`${name}: cyr_ prefix, a node shebang, and -h prints usage`, () => {
    assert.match(name, /^cyr_[a-z0-9_]+$/);
    const path = join(root, file);
    assert.ok(existsSync(path), `${file} was not built`);
    assert.match(readFileSync(path, 'utf8'), /^#!\/usr\/bin\/env node\n/);
    const r = spawnSync(process.execPath, [path, '-h'], { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.status, 0, `${name} -h exited ${r.status}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, /usage/i);
  });
}
