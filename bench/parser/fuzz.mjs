// Bounded fuzz of the built parser: 1,000,000 mutated inputs from the RFC 4475 / RFC 5118 fixtures
// and the benchmark corpus. Reports exceptions escaping parseMessage (or the accessors and the
// serialiser of an accepted message) and heap/RSS before and after, each after a forced GC.
//
//   npm run build && node --expose-gc bench/parser/fuzz.mjs [count] [seed]
//
// Exits 1 if anything threw. A script, not a test: the test suite runs a 20,000-input version.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseMessage } from '../../packages/sip-stack/dist/index.js';
import { createRng, mutate } from './mutate.mjs';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 0x5eed4475);
if (typeof globalThis.gc !== 'function') {
  console.error(
    'fuzz.mjs needs a forced GC to measure memory: run it as `node --expose-gc bench/parser/fuzz.mjs`.',
  );
  process.exit(2);
}

function loadDir(url) {
  const dir = fileURLToPath(url);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sip'))
    .map((f) => readFileSync(dir + f));
}
const corpus = [
  ...loadDir(new URL('../../packages/sip-stack/test/fixtures/rfc4475/', import.meta.url)),
  ...loadDir(new URL('../../packages/sip-stack/test/fixtures/rfc5118/', import.meta.url)),
  ...loadDir(new URL('./corpus/', import.meta.url)),
];

/** Everything a proxy or TU reads from an accepted message, then serialise and reparse. */
function exercise(m) {
  void [m.via, m.topVia, m.callId, m.cseq, m.from, m.to, m.fromTag, m.toTag, m.maxForwards];
  void [m.contacts, m.routes, m.recordRoutes, m.body.length, [...m.headers.entries()]];
  if (m.kind === 'request') void m.requestUri;
  const again = parseMessage(m.clone().toBuffer());
  if (again.ok) again.message.toBuffer();
}

function memory() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss };
}

const stats = { accepted: 0, rejected: 0, exceptions: 0, guard: 0, badResult: 0 };
const samples = [];
function runOne(rng, n) {
  const input = mutate(rng, corpus);
  try {
    const r = parseMessage(input, { datagram: n % 4 !== 0 });
    if (r === null || typeof r !== 'object' || typeof r.ok !== 'boolean') {
      stats.badResult++;
    } else if (r.ok) {
      stats.accepted++;
      exercise(r.message);
    } else {
      stats.rejected++;
      // parseMessage's last-resort catch: an internal exception it swallowed
      if (r.error.reason === 'unparseable message') stats.guard++;
    }
  } catch (err) {
    stats.exceptions++;
    if (samples.length < 3)
      samples.push({ n, error: String(err?.stack ?? err), input: input.toString('base64') });
  }
}

// Warm up on a different seed so the baseline includes compiled code and caches.
const warm = createRng(seed ^ 0xffff);
for (let n = 0; n < 20_000; n++) parseMessage(mutate(warm, corpus));
const before = memory();
const rng = createRng(seed);
const t0 = process.hrtime.bigint();
let middle;
for (let n = 0; n < count; n++) {
  runOne(rng, n);
  if (n === count / 2) middle = memory();
  if ((n + 1) % 100_000 === 0) process.stderr.write(`  ${n + 1} inputs\n`);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const after = memory();

const mib = (b) => (b / 1048576).toFixed(1);
console.log(
  `fuzz: ${count} inputs, seed ${seed}, corpus ${corpus.length} messages, ${seconds.toFixed(1)} s (${Math.round(count / seconds)} inputs/s)`,
);
console.log(
  `  accepted ${stats.accepted}, rejected ${stats.rejected}, malformed results ${stats.badResult}`,
);
console.log(
  `  exceptions escaping: ${stats.exceptions}; internal exceptions caught by the parser's guard: ${stats.guard}`,
);
console.log(
  `  heapUsed MiB: before ${mib(before.heapUsed)}, half-way ${mib(middle?.heapUsed ?? 0)}, after ${mib(after.heapUsed)} (delta ${mib(after.heapUsed - before.heapUsed)})`,
);
console.log(
  `  rss MiB:      before ${mib(before.rss)}, half-way ${mib(middle?.rss ?? 0)}, after ${mib(after.rss)} (delta ${mib(after.rss - before.rss)})`,
);
for (const s of samples) console.log(`  sample #${s.n}: ${s.error}\n    input(base64): ${s.input}`);
process.exitCode = stats.exceptions > 0 || stats.badResult > 0 ? 1 : 0;
