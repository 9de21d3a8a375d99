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
  // The SIP suite takes the flags after the suite names: `npm run bench -- sip --workers 1,2`.
  sip: ['node', [join(here, 'sip/run.mjs')], { passFlags: true }],
};

const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const wanted = firstFlag < 0 ? args : args.slice(0, firstFlag);
const passed = firstFlag < 0 ? [] : args.slice(firstFlag);
const names = wanted.length > 0 ? wanted : Object.keys(suites);
for (const name of names) {
  const suite = suites[name];
  if (!suite) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench: ${name} ==`);
  const argv = suite[2]?.passFlags ? [...suite[1], ...passed] : suite[1];
  const r = spawnSync(suite[0], argv, { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench ${name} failed with exit code ${r.status}`);
    process.exit(r.status ?? 1);
  }
}
