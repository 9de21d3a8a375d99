// `switchboard import` of 100,000 subscribers (user + device + extension each) from a CSV file,
// end to end through the CLI: parse, validate, four HA1 digests per device, one transaction.
// Run: node --import=tsx bench/control/import-bench.ts   (from the repository root)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../packages/control/src/cli/run-cli.js';

const N = 100_000;
const dir = mkdtempSync(join(tmpdir(), 'sb-import-'));
const io = { out: (s: string) => void process.stdout.write(s), err: () => undefined, env: {} };
const started = await runCli(
  ['start', '--data-dir', dir, '--port', '0', '--host', '127.0.0.1', '--log-level', 'silent'],
  { ...io, out: () => undefined },
);
const accountId = (
  started.server?.store.db.prepare('SELECT id FROM account').get() as { id: string }
).id;
await started.server?.stop();
const lines = ['domain,username,password,extension'];
for (let i = 0; i < N; i++) lines.push(`load.test,user${i},password-${i},${200000 + i}`);
const csv = join(dir, 'subscribers.csv');
writeFileSync(csv, `${lines.join('\n')}\n`);
const t0 = performance.now();
const r = await runCli(['import', csv, '--data-dir', dir, '--account', accountId], io);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(
  `exit ${r.code}: ${N.toLocaleString('en')} subscribers in ${seconds.toFixed(1)} s (${Math.round(N / seconds).toLocaleString('en')}/s)\n`,
);
rmSync(dir, { recursive: true, force: true });
