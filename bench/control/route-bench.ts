// Route decisions per second and latency, in-process and over HTTP, on 10,000 users, 1,000 DIDs
// and 100 outbound routes. Bounded in count and time; writes nothing outside a temp directory.
// Run: node --import=tsx bench/control/route-bench.ts   (from the repository root)
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Brain } from '../../packages/control/src/brain/brain.js';
import { CallRecorder } from '../../packages/control/src/brain/call-recorder.js';
import { LocalBrain } from '../../packages/control/src/brain/local-brain.js';
import { HttpBrain } from '../../packages/control/src/http/http-brain.js';
import { DIDS, ROUTES, USERS, seedWorld } from './bench-world.js';

interface Result {
  carrier: string;
  decisions: number;
  seconds: number;
  perSec: number;
  p50: number;
  p99: number;
  max: number;
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** `concurrency` workers issue requests until `count` are done or `maxMs` passes. */
async function drive(
  carrier: string,
  brain: Brain,
  requests: readonly Parameters<Brain['route']>[0][],
  count: number,
  concurrency: number,
  maxMs: number,
): Promise<Result> {
  const lat = new Float64Array(count);
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < count && performance.now() - t0 < maxMs) {
      const i = next++;
      const req = requests[i % requests.length];
      if (req === undefined) continue;
      const s = performance.now();
      const d = await brain.route({ ...req, callId: `${req.callId}-${i}` });
      lat[done++] = performance.now() - s;
      if (d.directive?.kind === 'reject')
        throw new Error(`unexpected reject for ${req.to.user}: ${d.directive.reason}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const sorted = lat.slice(0, done).sort();
  return {
    carrier,
    decisions: done,
    seconds,
    perSec: done / seconds,
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
    max: sorted[done - 1] ?? 0,
  };
}

async function httpServer(
  dir: string,
  token: string,
): Promise<{ port: number; echoPort: number; stop(): void }> {
  const script = fileURLToPath(new URL('./http-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import=tsx', script, dir, token], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  const [port, echoPort] = line.split(' ').map(Number);
  return { port: port ?? 0, echoPort: echoPort ?? 0, stop: () => child.stdin.end() };
}

const fmt = (r: Result) =>
  `| ${r.carrier} | ${r.decisions.toLocaleString('en')} | ${Math.round(r.perSec).toLocaleString('en')} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.max.toFixed(2)} |`;

const world = await seedWorld();
process.stderr.write(`seeded ${USERS} users, ${DIDS} DIDs, ${ROUTES} routes in ${world.dir}\n`);
const results: Result[] = [];
const plain = new LocalBrain({ directory: world.store.directory });
await drive('warm-up', plain, world.requests, 20_000, 1, 10_000);
results.push(await drive('in-process, sequential', plain, world.requests, 200_000, 1, 20_000));
const recorder = new CallRecorder(world.store.records, { nowMs: () => Date.now() });
const recording = new LocalBrain({ directory: world.store.directory, recorder });
results.push(await drive('in-process + CDR rows', recording, world.requests, 100_000, 1, 20_000));
await recording.close();
world.store.db.exec('DELETE FROM call_cdr; DELETE FROM call_event;');
const token = 'bench-node-token-0123456789';
const server = await httpServer(world.dir, token);
const client = new HttpBrain({
  baseUrl: `http://127.0.0.1:${server.port}`,
  nodeToken: token,
  maxSockets: 32,
});
await drive('warm-up', client, world.requests, 5_000, 32, 10_000);
results.push(await drive('HTTP, 32 in flight', client, world.requests, 100_000, 32, 20_000));
client.close();
// Same client against a constant answer: what this machine's HTTP stack allows at all.
const echo = new HttpBrain({
  baseUrl: `http://127.0.0.1:${server.echoPort}`,
  nodeToken: token,
  maxSockets: 32,
});
results.push(
  await drive('HTTP echo baseline (no decision)', echo, world.requests, 50_000, 32, 15_000),
);
echo.close();
server.stop();
world.store.close();
rmSync(world.dir, { recursive: true, force: true });
const table = [
  '| carrier | decisions | decisions/s | p50 ms | p99 ms | max ms |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(fmt),
].join('\n');
process.stdout.write(`${table}\n`);
