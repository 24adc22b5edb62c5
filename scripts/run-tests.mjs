#!/usr/bin/env node
// Runs the compiled tests with node's test runner.
//   unit:    every dist/src/**/*.test.js and dist/bench/**/*.test.js (tests beside the code)
//   interop: every dist/test/interop/**/*.test.js (tests that drive real external programs)
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const suite = process.argv[2] ?? 'unit';
const roots = { unit: ['dist/src', 'dist/bench'], interop: ['dist/test/interop'], all: ['dist/src', 'dist/bench', 'dist/test/interop'] }[suite];
if (!roots) {
  console.error(`usage: run-tests.mjs unit|interop|all [node --test options]`);
  process.exit(2);
}

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const files = roots.flatMap((r) => walk(r, []));
if (files.length === 0) {
  console.error(`no test files found under ${roots.join(', ')} (did tsc run?)`);
  process.exit(1);
}
const args = ['--test', '--test-concurrency=2', ...process.argv.slice(3), ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
