// Load steps against one running target: registrations or calls at a fixed rate for a bounded
// time, with the target's CPU (utime+stime over its process tree) and memory around the step;
// a ramp that finds the highest rate with < 0.1 % failures; latency points with a capture; soak.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HZ, sleep, treeSample } from './proc-tree.mjs';
import { runClient, startUas } from './sipp.mjs';
import { percentile, startCapture } from './capture.mjs';
import { errorLines } from './sipp-errors.mjs';

export const MAX_FAILED = 0.001;

/** What SIPp runs for each benchmark kind. */
function clientOptions(kind, ctx, rate, secs) {
  const common = {
    dir: ctx.dir,
    host: ctx.live.host,
    port: ctx.live.port,
    localIp: ctx.localIp,
    rate,
    count: Math.max(1, Math.round(rate * secs)),
    debug: ctx.debug,
    stops: ctx.stops,
  };
  if (kind === 'register')
    return {
      ...common,
      name: 'register',
      scenario: 'register-digest.xml',
      inf: ctx.files.register,
      // Contacts on the UAS port: the same bindings the call benchmark refreshes.
      localPort: ctx.uasPort,
      authUri: ctx.domain,
      timeoutSecs: secs + 15,
    };
  return {
    ...common,
    name: 'call',
    scenario: 'uac-auth.xml',
    inf: ctx.files.uac,
    localPort: ctx.uacPort,
    authUri: `${ctx.callee}@${ctx.domain}`,
    holdMs: ctx.holdMs,
    timeoutSecs: secs + Math.ceil(ctx.holdMs / 1000) + 20,
  };
}

/** One step: returns the client's result plus the target's CPU and memory over it. */
export async function step(kind, ctx, rate, { secs = ctx.stepSecs, capture = false } = {}) {
  const pid = ctx.live.pid;
  const cap = capture
    ? await startCapture({
        file: path.join(ctx.dir, `cap-${Date.now()}.pcap`),
        port: ctx.live.port,
      })
    : undefined;
  const uasFailed0 = ctx.uas?.failed() ?? 0;
  const s0 = pid ? treeSample(pid) : undefined;
  const drops0 = udpDrops();
  const r = await runClient(clientOptions(kind, ctx, rate, secs));
  const s1 = pid ? treeSample(pid) : undefined;
  // Datagrams the kernel dropped for a full socket buffer (whole machine: SIPp's sockets too).
  const udpRcvbufDrops = udpDrops() - drops0;
  const latency = cap ? await cap.stop() : undefined;
  if (ctx.uas) await sleep(1500); // the UAS's statistics file is written once a second
  const uasFailed = (ctx.uas?.failed() ?? 0) - uasFailed0;
  // Why calls failed: SIPp's error logs of the client and (over the same window) the UAS.
  const uasErrors = ctx.uas ? await ctx.uas.errors(r.startedAt, Date.now() / 1000) : [];
  const failed = r.failed + r.unfinished + Math.max(0, uasFailed);
  const total = r.count;
  const cpuSecs = s0 ? (s1.ticks - s0.ticks) / HZ : NaN;
  const out = {
    kind,
    rate,
    secs,
    ...r,
    uasFailed,
    uasErrors,
    udpRcvbufDrops,
    failedTotal: failed,
    failedRatio: total > 0 ? failed / total : 1,
    cpuSecs,
    cpuPct: s0 ? (100 * cpuSecs) / r.wallSecs : NaN,
    cpuUsPerOp: s0 && r.ok > 0 ? (cpuSecs / r.ok) * 1e6 : NaN,
    rssMiB: s1 ? s1.rssKiB / 1024 : NaN,
    pssMiB: s1 ? s1.pssKiB / 1024 : NaN,
    processes: s1?.processes ?? NaN,
    latency,
  };
  // A step passes with < 0.1 % failed calls, and SIPp finishing on time (it kept the rate).
  const late = r.wallSecs > secs + (kind === 'call' ? ctx.holdMs / 1000 : 0) + 5;
  out.pass = r.stderr === '' && out.failedRatio < MAX_FAILED && !late;
  out.late = late;
  return out;
}

/** RcvbufErrors of /proc/net/snmp (Linux; NaN elsewhere). */
function udpDrops() {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const head = lines[0].split(/\s+/);
    const row = lines[1].split(/\s+/);
    return Number(row[head.indexOf('RcvbufErrors')]);
  } catch {
    return NaN;
  }
}

function log(target, s) {
  const lat = s.latency ? ` capture p50/p99 ${fmtLatency(s.kind, s.latency)}` : '';
  console.error(
    `  ${target} ${s.kind} ${s.rate}/s: ${s.pass ? 'ok  ' : 'FAIL'} ok ${s.ok}/${s.count} failed ${s.failedTotal}` +
      `${s.late ? ' (late)' : ''} retrans ${s.retransmissions}, target CPU ${s.cpuPct.toFixed(0)}% ` +
      `(${s.cpuUsPerOp.toFixed(0)} µs/op), PSS ${s.pssMiB.toFixed(0)} MiB, UDP rcvbuf drops ${s.udpRcvbufDrops}, SIPp CPU ` +
      `${((100 * s.sippCpuSecs) / s.wallSecs).toFixed(0)}%${lat}${s.stderr ? ` [${s.stderr.split('\n')[0]}]` : ''}`,
  );
  const why = [
    ...errorLines('UAC', s.errors ?? [], s.startedAt),
    ...errorLines('UAS', s.uasErrors ?? [], s.startedAt),
  ];
  if (why.length > 0)
    console.error(`    SIPp error log (${s.kind} ${s.rate}/s):\n${why.join('\n')}`);
}

export function fmtLatency(kind, latency) {
  const key = kind === 'register' ? 'REGISTER→200' : 'INVITE→200';
  const xs = latency.samples[key];
  return `${key} ${(percentile(xs, 0.5) / 1000).toFixed(2)}/${(percentile(xs, 0.99) / 1000).toFixed(2)} ms (n=${xs?.length ?? 0})`;
}

/**
 * Finds the highest passing rate: doubles from `start` until a step fails (or `max`), then
 * bisects `refine` times between the last pass and the first failure. At most ~14 steps.
 */
/**
 * After a failed step the target may carry its overload into the next one (a trunk marked down,
 * queues still draining): a target that can (ctx.restart) starts afresh, so each step measures
 * the rate alone.
 */
async function afterFailure(ctx) {
  if (ctx.restart === undefined) return;
  console.error(`  ${ctx.live.name}: restarting after the failed step`);
  await ctx.restart();
}

export async function ramp(kind, ctx, { start, max, factor = 2, refine = 2 }) {
  const steps = [];
  let good;
  let bad;
  let rate = start;
  while (rate <= max && steps.length < 10) {
    const s = await step(kind, ctx, rate);
    steps.push(s);
    log(ctx.live.name, s);
    await sleep(ctx.coolMs);
    if (!s.pass) {
      bad = rate;
      await afterFailure(ctx);
      break;
    }
    good = s;
    rate = Math.round(rate * factor);
  }
  for (let i = 0; i < refine && bad !== undefined; i++) {
    const lo = good?.rate ?? 0;
    const mid = Math.round((lo + bad) / 2 / 10) * 10;
    if (mid <= lo || mid >= bad) break;
    const s = await step(kind, ctx, mid);
    steps.push(s);
    log(ctx.live.name, s);
    await sleep(ctx.coolMs);
    if (s.pass) good = s;
    else {
      bad = mid;
      await afterFailure(ctx);
    }
  }
  return { kind, max: good?.rate ?? 0, best: good, steps };
}

/**
 * A step at a fixed rate with the capture on (response times to the microsecond), on a target
 * started afresh (when it can be) and then loaded at the same rate for `warmSecs` uncaptured:
 * the capture sees the steady state at that rate, not the ramp's overload before it nor a
 * JIT's first seconds. The default warm-up outlasts the 32 s that completed transactions wait,
 * so the capture runs with the full population of them in memory.
 */
export async function latencyPoint(kind, ctx, rate, { warmSecs = 0 } = {}) {
  if (ctx.restart !== undefined) {
    console.error(`  ${ctx.live.name}: restarting for the ${rate}/s latency point`);
    await ctx.restart();
  }
  if (warmSecs > 0) {
    const w = await step(kind, ctx, rate, { secs: warmSecs });
    console.error(`  warm-up, not captured:`);
    log(ctx.live.name, w);
  }
  const s = await step(kind, ctx, rate, { capture: ctx.capture });
  log(ctx.live.name, s);
  await sleep(ctx.coolMs);
  return s;
}

/** Registers the callee on the UAS port, then starts the UAS on it. */
export async function prepareCalls(ctx, uasTimeoutSecs) {
  const r = await runClient({
    ...clientOptions('register', ctx, 10, 0.1),
    inf: ctx.files.callee,
    count: 1,
    timeoutSecs: 10,
  });
  if (r.ok !== 1)
    throw new Error(`could not register the callee ${ctx.callee} on ${ctx.live.name}`);
  ctx.uas = startUas({
    dir: ctx.dir,
    localIp: ctx.localIp,
    localPort: ctx.uasPort,
    timeoutSecs: uasTimeoutSecs,
    debug: ctx.debug,
  });
  await sleep(500);
  if (!ctx.uas.alive()) throw new Error(`the SIPp UAS did not start: ${ctx.uas.stderr()}`);
}

/** Calls at `rate` for `minutes`, in one bounded SIPp run, sampling the target's memory. */
export async function soak(ctx, rate, minutes, sampleSecs = 10) {
  // Load average with every sample: other work on the machine explains a noisy soak.
  const secs = Math.round(minutes * 60);
  const samples = [];
  const pid = ctx.live.pid;
  const t0 = performance.now();
  const timer = pid
    ? setInterval(() => {
        const s = treeSample(pid);
        samples.push({
          t: Math.round((performance.now() - t0) / 1000),
          rssMiB: s.rssKiB / 1024,
          pssMiB: s.pssKiB / 1024,
          cpuTicks: s.ticks,
          load1: os.loadavg()[0],
        });
      }, sampleSecs * 1000)
    : undefined;
  try {
    const s = await step('call', ctx, rate, { secs });
    log(ctx.live.name, s);
    return { rate, minutes, step: s, samples, hz: HZ };
  } finally {
    clearInterval(timer);
  }
}
