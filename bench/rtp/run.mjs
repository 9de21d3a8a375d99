#!/usr/bin/env node
// RTP relay benchmark: CPU per forwarded packet and loss at fixed offered loads for
//   direct (generator -> sink, routed, no relay), rtpengine (userspace), our relay in
//   userspace mode and in kernel (eBPF) mode - interleaved in the same run, medians of reps.
//
//   sudo node bench/rtp/run.mjs [--loads 100000,300000] [--reps 3] [--duration 10]
//        [--modes direct,rtpengine,relay-user,relay-kernel] [--write] [--no-build]
//
// Needs root (network namespaces), cargo (builds bench/rtp-load), the built relay package
// for the relay modes, and Debian's rtpengine-daemon for the rtpengine mode. Not a test.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  JsonChild,
  HZ,
  killAll,
  ksoftirqdTicks,
  median,
  processTicks,
  sleep,
  systemTicks,
} from './proc.mjs';
import { makeModes, GEN_PORT, SINK_PORT } from './modes.mjs';
import { ADDR, names, setup, teardown } from './topology.mjs';
import { writeResults } from './results.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const BIN = path.join(ROOT, 'target', 'release');

function parseArgs(argv) {
  const o = {
    loads: [100000, 300000],
    reps: 3,
    duration: 10,
    warmup: 2,
    write: false,
    build: true,
    inner: false,
    modes: ['direct', 'rtpengine', 'relay-user', 'relay-kernel'],
    rtpengineThreads: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--loads') o.loads = v().split(',').map(Number);
    else if (a === '--reps') o.reps = Number(v());
    else if (a === '--duration') o.duration = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--modes') o.modes = v().split(',');
    else if (a === '--rtpengine-threads') o.rtpengineThreads = Number(v());
    else if (a === '--write') o.write = true;
    else if (a === '--no-build') o.build = false;
    else if (a === '--inner') o.inner = v();
    else if (a === '--out') o.out = v();
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** Starts the sink and the system under test, latches, starts the generator. */
async function prepare(mode, streams, o, ns, dir, ctx) {
  ctx.sink = new JsonChild('ip', [
    'netns',
    'exec',
    ns.b,
    path.join(BIN, 'rtp-sink'),
    '--bind',
    `${ADDR.b}:${SINK_PORT}`,
    '--streams',
    String(streams),
    '--max-secs',
    String(o.duration + 600),
  ]);
  await ctx.sink.next(10000);
  ctx.started = await mode.start(streams);
  const targets = path.join(dir, 'targets.txt');
  const hello = path.join(dir, 'hello.txt');
  writeFileSync(targets, `${ctx.started.targets.join('\n')}\n`);
  writeFileSync(hello, `${ctx.started.hello.join('\n')}\n`);
  if (ctx.started.hello.length) await ctx.sink.request(`hello ${hello}`, 60000);
  await sleep(300);
  ctx.gen = new JsonChild('ip', [
    'netns',
    'exec',
    ns.a,
    path.join(BIN, 'rtp-gen'),
    '--targets',
    targets,
    '--streams',
    String(streams),
    '--duration',
    String(o.duration),
    '--bind',
    ADDR.a,
    '--port',
    String(GEN_PORT),
  ]);
}

async function sample(ctx) {
  const pid = ctx.started.pid;
  return {
    sys: systemTicks(),
    ksi: ksoftirqdTicks(),
    relay: pid ? processTicks(pid) : 0,
    gen: processTicks(ctx.gen.pid),
    sink: processTicks(ctx.sink.pid),
    rx: (await ctx.sink.request('stats')).received,
    t: process.hrtime.bigint(),
    load: os.loadavg()[0],
  };
}

/** One measurement: one mode at one offered load. */
async function runOne(mode, load, o, ns, dir) {
  const streams = Math.round(load / 50);
  const ctx = {};
  let finished = false;
  try {
    await prepare(mode, streams, o, ns, dir, ctx);
    await sleep(o.warmup * 1000);
    const s0 = await sample(ctx);
    await sleep((o.duration - o.warmup - 1) * 1000);
    const s1 = await sample(ctx);
    const genOut = await ctx.gen.next(o.duration * 1000 + 30000);
    await sleep(500);
    const final = await ctx.sink.request('stop');
    finished = true;
    const extra = await mode.finish();
    const secs = Number(s1.t - s0.t) / 1e9;
    const pkts = s1.rx - s0.rx;
    const busy = (s1.sys.busy - s0.sys.busy) / HZ;
    const relayCpu = (s1.relay - s0.relay) / HZ;
    // Attributed: the processes of the experiment plus deferred softirq work (ksoftirqd); far less
    // sensitive than /proc/stat to whatever else the machine runs.
    const attributed =
      (s1.relay - s0.relay + s1.gen - s0.gen + s1.sink - s0.sink + s1.ksi - s0.ksi) / HZ;
    return {
      mode: mode.name,
      load,
      streams,
      info: ctx.started.info,
      offered: genOut.offered,
      sent: genOut.sent,
      received: final.received,
      lossPct: genOut.sent ? (100 * Math.max(0, genOut.sent - final.received)) / genOut.sent : NaN,
      windowPps: pkts / secs,
      sysUsPerPkt: pkts ? (busy / pkts) * 1e6 : NaN,
      attrUsPerPkt: pkts ? (attributed / pkts) * 1e6 : NaN,
      relayUsPerPkt: ctx.started.pid && pkts ? (relayCpu / pkts) * 1e6 : NaN,
      relayCorePct: ctx.started.pid ? (100 * relayCpu) / secs : NaN,
      loadavg: (s0.load + s1.load) / 2,
      genCpuS: genOut.cpu_s,
      sinkCpuS: final.cpu_s,
      extra,
      parts: Object.fromEntries(
        ['gen', 'sink', 'relay', 'ksi'].map((k) => [
          k,
          pkts ? ((s1[k] - s0[k]) / HZ / pkts) * 1e6 : NaN,
        ]),
      ),
    };
  } finally {
    await ctx.gen?.stop();
    await ctx.sink?.stop();
    if (!finished) await mode.finish().catch(() => {});
  }
}

async function inner(o) {
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (killAll(), process.exit(1)));
  const ns = JSON.parse(o.inner);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sbb-'));
  const rows = [];
  try {
    for (let rep = 0; rep < o.reps; rep++) {
      for (const load of o.loads) {
        for (const mode of makeModes(o.modes, o)) {
          try {
            const r = await runOne(mode, load, o, ns, dir);
            rows.push({ rep, ...r });
            console.error(
              `rep ${rep} ${r.mode} ${load} pps (got ${Math.round(r.windowPps)}): sys ${r.sysUsPerPkt.toFixed(2)} ` +
                `attributed ${r.attrUsPerPkt.toFixed(2)} us/pkt, ` +
                `relay ${r.relayUsPerPkt.toFixed(2)} us/pkt (${r.relayCorePct.toFixed(1)}% core), loss ${r.lossPct.toFixed(3)}% ` +
                `[gen ${r.parts.gen.toFixed(2)} sink ${r.parts.sink.toFixed(2)} ksoftirqd ${r.parts.ksi.toFixed(2)}]`,
            );
          } catch (e) {
            console.error(`rep ${rep} ${mode.name} ${load} pps failed: ${e.message}`);
            rows.push({ rep, mode: mode.name, load, error: e.message });
          }
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  writeFileSync(o.out, JSON.stringify(rows, null, 2));
}

function summarize(rows, o) {
  const out = [];
  for (const load of o.loads) {
    for (const mode of o.modes) {
      const rs = rows.filter((r) => r.load === load && r.mode === mode && !r.error);
      const errors = rows
        .filter((r) => r.load === load && r.mode === mode && r.error)
        .map((r) => r.error);
      const m = (k) => median(rs.map((r) => r[k]));
      out.push({
        load,
        mode,
        n: rs.length,
        errors,
        info: rs[0]?.info ?? '',
        sysUsPerPkt: m('sysUsPerPkt'),
        attrUsPerPkt: m('attrUsPerPkt'),
        loadavg: m('loadavg'),
        relayUsPerPkt: m('relayUsPerPkt'),
        relayCorePct: m('relayCorePct'),
        lossPct: m('lossPct'),
        maxLossPct: Math.max(...rs.map((r) => r.lossPct)),
        windowPps: m('windowPps'),
      });
    }
  }
  return out;
}

async function outer(o) {
  if (process.getuid?.() !== 0)
    throw new Error('run as root: the benchmark creates network namespaces');
  if (o.build)
    execFileSync('cargo', ['build', '--release', '-p', 'rtp-load'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  const ns = names();
  const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'sbb-out-')), 'rows.json');
  let stopInner = () => {};
  const cleanup = () => teardown(ns);
  const onSignal = (code) => () => {
    stopInner();
    setTimeout(() => (cleanup(), process.exit(code)), 1000);
  };
  process.on('SIGINT', onSignal(130));
  process.on('SIGTERM', onSignal(143));
  let rows;
  try {
    setup(ns);
    const args = [
      SELF,
      '--inner',
      JSON.stringify(ns),
      '--out',
      out,
      '--loads',
      o.loads.join(','),
      '--reps',
      String(o.reps),
      '--duration',
      String(o.duration),
      '--warmup',
      String(o.warmup),
      '--modes',
      o.modes.join(','),
    ];
    if (o.rtpengineThreads) args.push('--rtpengine-threads', String(o.rtpengineThreads));
    const child = spawn('ip', ['netns', 'exec', ns.r, process.execPath, ...args], {
      stdio: 'inherit',
    });
    stopInner = () => child.kill('SIGTERM');
    const [code, signal] = await once(child, 'exit');
    if (code !== 0) throw new Error(`inner run failed (${code ?? signal})`);
    rows = JSON.parse(readFileSync(out, 'utf8'));
  } finally {
    cleanup();
    rmSync(path.dirname(out), { recursive: true, force: true });
  }
  const summary = summarize(rows, o);
  console.log(JSON.stringify(summary, null, 2));
  if (o.write) writeResults(path.join(ROOT, 'bench', 'RESULTS.md'), summary, o);
}

const o = parseArgs(process.argv.slice(2));
(o.inner ? inner(o) : outer(o)).catch((e) => {
  console.error(e.message);
  process.exit(1);
});
