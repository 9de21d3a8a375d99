#!/usr/bin/env node
// `npm test`: runs every workspace's tests in turn (output streamed as it comes), then prints one
// closing line with the totals. Exits non-zero if any workspace failed.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const root = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
let passed = 0;
let failed = 0;
let skipped = 0;
const broken = [];

function count(line) {
  // tap: "# { total: 12, pass: 11, fail: 1, skip: 2 }"
  const tap = /^# \{ total: \d+(.*)\}/.exec(line);
  if (tap) {
    const field = (name) => Number(new RegExp(`${name}: (\\d+)`).exec(tap[1])?.[1] ?? 0);
    passed += field('pass');
    failed += field('fail');
    skipped += field('skip');
  }
  // cargo: "test result: ok. 46 passed; 0 failed; 1 ignored; ..."
  const cargo = /^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/.exec(line);
  if (cargo) {
    passed += Number(cargo[1]);
    failed += Number(cargo[2]);
    skipped += Number(cargo[3]);
  }
}

function run(workspace) {
  return new Promise((resolve) => {
    const child = spawn('npm', ['run', 'test', '--workspace', workspace, '--if-present'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rest = '';
    const onData = (stream) => (chunk) => {
      stream.write(chunk);
      const text = rest + chunk.toString();
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      lines.forEach(count);
    };
    child.stdout.on('data', onData(process.stdout));
    child.stderr.on('data', onData(process.stderr));
    child.on('close', (code) => {
      count(rest);
      if (code !== 0) broken.push(workspace);
      resolve();
    });
  });
}

for (const workspace of root.workspaces) await run(workspace);
if (broken.length > 0) console.log(`\nfailed workspaces: ${broken.join(', ')}`);
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(broken.length > 0 || failed > 0 ? 1 : 0);
