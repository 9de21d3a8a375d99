// Parser benchmark: parse-to-routable, serialize and forward throughput of our parser against the
// npm packages `sip`, `sip.js` and `drachtio-sip`, on the corpus in bench/parser/corpus/.
//
//   npm run build && node bench/parser/run.mjs [--runs 7] [--ms 200] [--write]
//
// Each (parser, operation, message) is measured in a fresh child process (no JIT or GC state
// shared between parsers): warm-up, then --runs timed runs of a calibrated iteration count; the
// table reports the median ns/message, msgs/s and how many times slower each parser is than ours.
// --write replaces the "Parser" section of bench/RESULTS.md.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PARSERS } from './parsers.mjs';

const MESSAGES = ['invite-sdp', 'ok-sdp', 'register-auth', 'bye'];
const OPS = ['route', 'serialize', 'forward'];
const script = fileURLToPath(import.meta.url);
const corpusFile = (name) => new URL(`./corpus/${name}.sip`, import.meta.url);

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

let sink = 0;
function consume(v) {
  sink = (sink + (v?.length ?? (typeof v === 'object' ? 1 : 0))) | 0;
}

/** Child: times one operation of one parser on one message; prints JSON. */
async function child(parserName, op, message, runs, ms) {
  const p = await PARSERS[parserName]();
  const buf = readFileSync(corpusFile(message));
  const fn = op === 'route' ? p.route : op === 'forward' ? p.forward : p.serialize;
  if (fn === undefined) return { na: 'no serialiser for a parsed message' };
  const check = p.route(buf);
  delete check.m;
  const input = op === 'serialize' ? p.prepare(buf) : buf;
  const once = () => consume(fn(input));
  // Warm-up (JIT, caches): at least 1 s and 5,000 calls, at most 3 s; then size each run to `ms`.
  let calls = 0;
  const w0 = process.hrtime.bigint();
  let elapsed = 0;
  while ((elapsed < 1000 || calls < 5000) && elapsed < 3000) {
    for (let i = 0; i < 100; i++) once();
    calls += 100;
    elapsed = Number(process.hrtime.bigint() - w0) / 1e6;
  }
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < 1000; i++) once();
  const perCallMs = Number(process.hrtime.bigint() - t1) / 1e6 / 1000;
  const n = Math.max(200, Math.round(ms / perCallMs));
  const nsPerOp = [];
  const cpuNsPerOp = [];
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) once();
    nsPerOp.push(Number(process.hrtime.bigint() - t0) / n);
    const c = process.cpuUsage(c0);
    cpuNsPerOp.push(((c.user + c.system) * 1000) / n);
  }
  return { check, nsPerOp, cpuNsPerOp, iterations: n, sink };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function measure(parserName, op, message, runs, ms) {
  try {
    const out = execFileSync(
      process.execPath,
      [script, '--child', parserName, op, message, String(runs), String(ms)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 120_000,
      },
    );
    return JSON.parse(out);
  } catch (err) {
    const msg =
      String(err.stderr || err.message)
        .split('\n')
        .find((l) => /Error|error/.test(l)) ?? 'failed';
    return { na: msg.trim().slice(0, 80) };
  }
}

/** Routing values must agree with ours, or the parser's timing is not comparable. */
function agrees(a, b) {
  return (
    JSON.stringify([a.branch, a.callId, a.cseq, a.toTag ?? null]) ===
    JSON.stringify([b.branch, b.callId, b.cseq, b.toTag ?? null])
  );
}

function fmt(ns) {
  return ns >= 10_000
    ? `${(ns / 1000).toFixed(1)} µs`
    : ns >= 1000
      ? `${(ns / 1000).toFixed(2)} µs`
      : `${Math.round(ns)} ns`;
}

async function main() {
  const loadBefore = loadavg()[0];
  const runs = option('runs', 7);
  const ms = option('ms', 200);
  const rows = [];
  for (const op of OPS) {
    for (const message of MESSAGES) {
      const results = {};
      for (const name of Object.keys(PARSERS)) {
        process.stderr.write(`  ${op} ${message} ${name}\n`);
        results[name] = measure(name, op, message, runs, ms);
      }
      rows.push({ op, message, results });
    }
  }
  const names = Object.keys(PARSERS);
  const lines = [
    `| operation | message | ${names.map((n) => `${n} median`).join(' | ')} | ${names
      .slice(1)
      .map((n) => `${n} ÷ ours`)
      .join(' | ')} |`,
    `| --- | --- | ${names.map(() => '---:').join(' | ')} | ${names
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const { op, message, results } of rows) {
    const ours = results.ours;
    const oursNs = ours.nsPerOp ? median(ours.nsPerOp) : undefined;
    const cells = names.map((n) => {
      const r = results[n];
      if (!r.nsPerOp) return `n/a (${r.na})`;
      const ns = median(r.nsPerOp);
      const wrong = ours.check && r.check && !agrees(r.check, ours.check) ? ' ⚠ values differ' : '';
      const cpu = fmt(median(r.cpuNsPerOp));
      return `${fmt(ns)} (${Math.round(1e9 / ns).toLocaleString('en-US')}/s; cpu ${cpu})${wrong}`;
    });
    const ratios = names.slice(1).map((n) => {
      const r = results[n];
      return r.nsPerOp && oursNs ? `${(median(r.nsPerOp) / oursNs).toFixed(1)}×` : '–';
    });
    lines.push(
      `| ${op} | ${message} (${readFileSync(corpusFile(message)).length} B) | ${cells.join(' | ')} | ${ratios.join(' | ')} |`,
    );
  }
  const table = lines.join('\n');
  const cpu = cpus()[0]?.model ?? 'unknown';
  const load = `1-min load average ${loadBefore.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`;
  const machine = `${availableParallelism()} CPUs (nproc), ${cpu}, Node.js ${process.version}, ${process.platform} ${process.arch}; ${load}`;
  const command = `node bench/parser/run.mjs --runs ${runs} --ms ${ms}`;
  console.log(`${machine}\n\n${table}`);
  if (process.argv.includes('--write')) writeResults(table, machine, command, runs);
}

function writeResults(table, machine, command, runs) {
  const file = fileURLToPath(new URL('../RESULTS.md', import.meta.url));
  const begin = '<!-- parser:begin -->';
  const end = '<!-- parser:end -->';
  const section = `${begin}
## Parser

Measured ${new Date().toISOString().slice(0, 10)} on ${machine}.
Command: \`npm run build && ${command} --write\`

Median of ${runs} timed runs per cell, each cell in its own process after a warm-up; every
operation starts from the message bytes and ends with bytes (sip.js and drachtio-sip are given
\`buf.toString()\`, which is included). \`route\` = parse, then read the top Via branch, Call-ID,
CSeq, Max-Forwards, parsed Request-URI host, Route set and To tag. \`serialize\` = bytes of an
already parsed message. \`forward\` = \`route\`, then push a Via and decrement Max-Forwards (pop
the top Via for responses), then serialize. "÷ ours" = how many times longer than ours (wall
clock). Each cell: median wall time per message (messages/s; median process CPU time per message,
which GC threads can push above the wall time).
sip.js has no serialiser for a received message. drachtio-sip is used on its lazy path.

${table}
${end}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  text =
    a >= 0 && b > a
      ? text.slice(0, a) + section + text.slice(b + end.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
  console.error(`wrote the Parser section of ${file}`);
}

if (process.argv[2] === '--child') {
  const [, , , parserName, op, message, runs, ms] = process.argv;
  const r = await child(parserName, op, message, Number(runs), Number(ms));
  process.stdout.write(JSON.stringify(r));
} else {
  await main();
}
