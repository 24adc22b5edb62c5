#!/usr/bin/env node
// Makes package.json's "bin" map list exactly the programs in src/bin/cyr_*.ts, each
// installed under its cyr_ name. Run after adding a program: `node scripts/sync-bins.mjs`.
// With --check it changes nothing and exits 1 when the map is out of step (a test runs it).
import { readFileSync, writeFileSync, readdirSync } from 'node:fs';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
const bins = {};
for (const f of readdirSync('src/bin').sort()) {
  const m = /^(cyr_[a-z0-9_]+)\.ts$/.exec(f);
  if (m) bins[m[1]] = `dist/src/bin/${m[1]}.js`;
}
const same = JSON.stringify(bins) === JSON.stringify(pkg.bin);
if (process.argv.includes('--check')) {
  if (!same) {
    console.error('package.json "bin" is out of step with src/bin: run node scripts/sync-bins.mjs');
    process.exit(1);
  }
} else if (!same) {
  pkg.bin = bins;
  writeFileSync('package.json', JSON.stringify(pkg, null, 2) + '\n');
  console.log(`bin map: ${Object.keys(bins).join(' ')}`);
}
