#!/usr/bin/env node
// `npm run bench [-- <suite> ...]`: runs the named benchmark suites (default: all), one after another.
// Each suite writes its own section of bench/RESULTS.md. Benchmarks are never part of `npm test`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suites = {
  parser: ['node', [join(here, 'parser/run.mjs'), '--write']],
  control: ['node', ['--import=tsx', join(here, 'control/route-bench.ts')]],
  rtp: ['node', [join(here, 'rtp/run.mjs')]],
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length > 0 ? wanted : Object.keys(suites);
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench: ${name} ==`);
  const r = spawnSync(suite[0], suite[1], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench ${name} failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}
