#!/usr/bin/env node
// CPU per B2BUA call at a FIXED rate (not a ramp): SIPp UAC → 407 → INVITE with credentials →
// Switchboard's B2BUA (outbound route to the trunk, media anchored on the native relay) → SIPp
// UAS as the carrier → 180/200 → ACK → hold → BYE, the same set-up as run.mjs. Runs a bounded
// number of calls and prints the server's CPU µs per call (utime + stime of its process tree, and
// per thread: the JS thread, libuv and V8 helpers, the relay's threads), SIPp's INVITE→200 times
// and how late the server's event loop ran meanwhile (loop-delay.mjs, loaded with --import).
// --warm-calls run first, unmeasured, so the JIT has compiled the call path. Compare a change
// before/after back to back at the same rate (--repeat 3 prints the median).
//
//   npm run build && node bench/b2bua/profile.mjs [--rate 200] [--calls 3000] [--warm-calls 1000]
//       [--hold 1000] [--users 1000] [--repeat 1] [--cpu-prof] [--perf] [--top 40] [--keep] [--debug]
//       [--node-arg <arg> ...]
//
// --cpu-prof runs the server under `node --cpu-prof` and prints the functions with the most self
// and inclusive time (profile-summary.mjs; the profile covers the whole process life, warm-up
// included; it counts wall time, so a native call waiting on another thread shows as busy). --perf
// samples the server on CPU with Linux perf during the measured calls (node --perf-basic-prof
// names JIT frames) and prints the top symbols. --node-arg passes an option to the server's node
// (e.g. --heap-prof; --keep keeps the files). Every SIPp run is bounded in count and time; the server and SIPp are stopped by pid.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../sip/capture.mjs';
import { HZ, sleep, treeSample } from '../sip/proc-tree.mjs';
import { summarize } from '../sip/profile-summary.mjs';
import { runClient, startUas } from '../sip/sipp.mjs';
import { loadUsers } from '../sip/users.mjs';
import { NUMBER, PREFIX, RTP, freePorts, writeCallers } from './setup.mjs';
import { switchboardB2bua } from './targets.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const LOOP_DELAY = path.join(HERE, 'loop-delay.mjs');
const DOMAIN = 'bench.test';
const HOST = '127.0.0.1';

function parseArgs(argv) {
  const o = { rate: 200, calls: undefined, warmCalls: undefined, holdMs: 1000, users: 1000 };
  Object.assign(o, { repeat: 1, cpuProf: false, perf: false, top: 40, keep: false, debug: false });
  o.nodeArgs = [];
  const num = (v, a) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${a} needs a number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--rate') o.rate = num(v(), a);
    else if (a === '--calls') o.calls = num(v(), a);
    else if (a === '--warm-calls') o.warmCalls = num(v(), a);
    else if (a === '--hold') o.holdMs = num(v(), a);
    else if (a === '--users') o.users = num(v(), a);
    else if (a === '--repeat') o.repeat = Math.max(1, num(v(), a));
    else if (a === '--top') o.top = num(v(), a);
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--perf') o.perf = true;
    else if (a === '--node-arg') o.nodeArgs.push(v());
    else if (a === '--keep') o.keep = true;
    else if (a === '--debug') o.debug = true;
    else throw new Error(`unknown option ${a}`);
  }
  o.calls ??= Math.round(o.rate * 15);
  o.warmCalls ??= Math.round(o.rate * 5);
  return o;
}

/** utime and stime (jiffies) per thread name (digits dropped), minus `base` when given. */
function threadTicks(pid, base = {}) {
  const out = {};
  let tasks = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tasks) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d-]+$/, '');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cur = (out[name] ??= { user: 0, sys: 0 });
    cur.user += Number(f[11]);
    cur.sys += Number(f[12]);
  }
  for (const [name, v] of Object.entries(base)) {
    const cur = (out[name] ??= { user: 0, sys: 0 });
    cur.user -= v.user;
    cur.sys -= v.sys;
  }
  return out;
}

function callOptions(o, dir, uac, ports, count, name) {
  return {
    name,
    dir,
    host: HOST,
    port: ports.port,
    localIp: HOST,
    localPort: ports.uacPort,
    scenario: 'uac-auth.xml',
    inf: uac,
    authUri: `${NUMBER}@${DOMAIN}`,
    rate: o.rate,
    count,
    holdMs: o.holdMs,
    timeoutSecs: Math.ceil(count / Math.max(1, o.rate) + o.holdMs / 1000 + 20),
    debug: o.debug,
  };
}

/** The loop-delay figures since the previous SIGUSR2 (undefined when the probe did not answer). */
async function loopDelay(pid, file) {
  rmSync(file, { force: true });
  try {
    process.kill(pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  for (let i = 0; i < 20 && !existsSync(file); i++) await sleep(50);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One server, warmed up, then `calls` measured calls. */
async function oneRun(o) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-b2bua-prof-'));
  const users = loadUsers({ count: o.users });
  const uac = writeCallers(dir, users, DOMAIN);
  const ports = await freePorts();
  const loopFile = path.join(dir, 'loop-delay.json');
  process.env.SB_LOOP_DELAY_FILE = loopFile; // inherited by the server
  const nodeArgs = ['--import', LOOP_DELAY, ...o.nodeArgs];
  if (o.cpuProf) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir);
  if (o.perf) nodeArgs.push('--perf-basic-prof');
  const target = switchboardB2bua({
    ...{ dir: path.join(dir, 'target'), host: HOST, users, domain: DOMAIN, rtp: RTP },
    // A short drain: SIGTERM must end the server (and write its profile) before stop() kills it.
    ...{ ...ports, prefix: PREFIX, nodeArgs, serverArgs: ['--drain-timeout', '2'] },
  });
  const live = await target.start();
  const total = o.calls + o.warmCalls;
  const uasSecs = Math.ceil((total / Math.max(1, o.rate) + o.holdMs / 1000) * 3 + 60);
  const uas = startUas({ dir, localIp: HOST, localPort: ports.uasPort, timeoutSecs: uasSecs });
  try {
    await sleep(500);
    if (!uas.alive()) throw new Error(`the SIPp UAS did not start: ${uas.stderr()}`);
    if (o.warmCalls > 0) {
      const w = await runClient(callOptions(o, dir, uac, ports, o.warmCalls, 'warm'));
      if (w.ok < o.warmCalls)
        console.error(`warm-up: ${w.ok}/${o.warmCalls} ok ${w.stderr ? `[${w.stderr}]` : ''}`);
      await sleep(o.holdMs + 1000);
    }
    await loopDelay(live.pid, loopFile); // starts the loop-delay window here
    const perf = o.perf ? startPerf(live.pid, dir) : undefined;
    const threads0 = threadTicks(live.pid);
    const s0 = treeSample(live.pid);
    const r = await runClient(callOptions(o, dir, uac, ports, o.calls, 'calls'));
    await sleep(300); // CDRs are written behind, in batches
    const s1 = treeSample(live.pid);
    const threads = threadTicks(live.pid, threads0);
    await perf?.stop();
    const loop = await loopDelay(live.pid, loopFile);
    const left = await live.sessions();
    const perCall = (ticks) => (r.ok > 0 ? ((ticks / HZ) * 1e6) / r.ok : NaN);
    return {
      dir,
      r,
      usPerCall: perCall(s1.ticks - s0.ticks),
      cpuPct: (100 * (s1.ticks - s0.ticks)) / HZ / ((s1.at - s0.at) / 1000),
      threads: Object.entries(threads)
        .filter(([, v]) => v.user + v.sys > 0)
        .sort(([, a], [, b]) => b.user + b.sys - (a.user + a.sys))
        .map(([name, v]) => `${name} ${perCall(v.user).toFixed(0)}u+${perCall(v.sys).toFixed(0)}s`)
        .join(', '),
      loop,
      left,
      pssMiB: s1.pssKiB / 1024,
    };
  } finally {
    await uas.stop();
    await live.stop();
  }
}

/** `perf record` on the server until stop() (SIGINT to the pid we started). */
function startPerf(pid, dir) {
  const out = path.join(dir, 'perf.data');
  const child = spawn('perf', ['record', '-F', '499', '-g', '-o', out, '-p', String(pid)], {
    stdio: 'ignore',
  });
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await new Promise((r) => (child.exitCode === null ? child.on('exit', r) : r()));
    },
  };
}

/** The top symbols of the perf samples, by self time (dso and symbol). */
function perfReport(dir, top) {
  const r = spawnSync(
    'perf',
    ['report', '-i', path.join(dir, 'perf.data'), '--no-children', '--sort', 'dso,sym'].concat([
      '--stdio',
      '-g',
      'none',
      '--percent-limit',
      '0.3',
    ]),
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const lines = r.stdout.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  return lines.slice(0, top).join('\n');
}

function report(i, x) {
  const { r } = x;
  const inv = r.rtt['inv-200'] ?? [];
  const rtt = inv.length
    ? `${percentile(inv, 0.5).toFixed(0)}/${percentile(inv, 0.99).toFixed(0)} ms`
    : '–';
  const loop = x.loop ? `${x.loop.p50}/${x.loop.p99}/${x.loop.max} ms` : '–';
  console.log(
    `run ${i}: ${r.ok}/${r.count} ok, failed ${r.failed + r.unfinished}, retrans ${r.retransmissions}` +
      `${r.stderr ? ` [${r.stderr.split('\n')[0]}]` : ''}\n` +
      `  server CPU ${x.usPerCall.toFixed(0)} µs/call (${x.cpuPct.toFixed(0)} % of a core; ${x.threads})\n` +
      `  INVITE→200 p50/p99 ${rtt} (SIPp, 4 ms steps); event loop late p50/p99/max ${loop}; ` +
      `relay sessions left ${x.left ?? '?'}; PSS ${x.pssMiB.toFixed(0)} MiB`,
  );
}

const o = parseArgs(process.argv.slice(2));
console.error(
  `B2BUA profile: ${o.calls} calls at ${o.rate}/s (after ${o.warmCalls} warm-up calls), ` +
    `hold ${o.holdMs} ms, ${o.repeat} run(s)`,
);
const results = [];
for (let i = 1; i <= o.repeat; i++) {
  const x = await oneRun(o);
  results.push(x.usPerCall);
  report(i, x);
  if (o.cpuProf) {
    const profiles = readdirSync(x.dir).filter((n) => n.endsWith('.cpuprofile'));
    if (profiles.length === 0) console.log('  no V8 profile: the server did not exit by itself');
    for (const f of profiles) console.log(summarize(path.join(x.dir, f), { top: o.top }));
  }
  if (o.perf) console.log(perfReport(x.dir, o.top));
  if (o.keep) console.log(`kept ${x.dir}`);
  else rmSync(x.dir, { recursive: true, force: true });
}
const sorted = [...results].sort((a, b) => a - b);
console.log(
  `median server CPU ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} µs/call ` +
    `(runs: ${results.map((x) => x.toFixed(0)).join(', ')})`,
);
