#!/usr/bin/env node
// SIP signalling benchmark: SIPp (bench/scenarios) against Kamailio and Switchboard in the same
// run, one after the other on loopback: REGISTER with digest and proxied calls with a 407
// challenge. For each target it ramps the rate to the highest one with < 0.1 % failed calls and
// reports it with the target's CPU and memory, p50/p99 response times at that rate and at half
// of Kamailio's, and the ratio to Kamailio. Not a test: minutes of load, wants a quiet machine.
//
//   npm run build && node bench/sip/run.mjs [--targets kamailio,switchboard] [--workers 1,2]
//       [--kinds register,call] [--step-secs 10] [--reg-start 400] [--call-start 100]
//       [--latency-warm-secs 35]
//       [--soak <minutes> [--soak-rate <calls/s>]] [--write] [--debug] [--monitor]
//       [--node-args "--cpu-prof --max-semi-space-size=..."]
//   node bench/sip/run.mjs --target 10.0.0.5:5060 --domain example.com --users-file users.csv
//       [--callee 1001] [--local-ip 10.0.0.9] [--pid <server pid on this machine>]
//
// A target that fails a ramp step is restarted before the next step (a call run registers the
// callee again), so no step inherits the overload of the one before. Each latency point (at the
// maximum, and at half of Kamailio's) runs on a restarted target after --latency-warm-secs of
// load at the same rate, uncaptured.
//
// Every load step is bounded in count (-m) and time (-timeout, then SIGKILL); processes started
// here are stopped by pid. Needs `sipp` (Debian sip-tester), `kamailio`, and root + tcpdump for
// microsecond response times (else SIPp's 4 ms clock is used).
//
// Failed calls are broken down by class from SIPp's error logs (client and UAS), printed after
// each failing step. --debug keeps the temporary directory (SIPp logs, server output). --monitor
// preloads loop-monitor.mjs into Switchboard: event loop delay and GC pauses every 10 s, printed
// at the end. --node-args passes flags to Switchboard's node (e.g. --cpu-prof, written into the
// kept directory with --debug).
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureAvailable } from './capture.mjs';
import { latencyPoint, prepareCalls, ramp, soak } from './ramp.mjs';
import { section, table, soakLines, writeResults } from './results.mjs';
import {
  externalTarget,
  kamailioTarget,
  kamailioVersion,
  seedSwitchboard,
  switchboardTarget,
} from './targets.mjs';
import { loadUsers, writeSippFiles } from './users.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
  const o = {
    targets: ['kamailio', 'switchboard'],
    workers: [1],
    kinds: ['register', 'call'],
    stepSecs: 10,
    latencyWarmSecs: 35,
    regStart: 400,
    regMax: 40000,
    callStart: 100,
    callMax: 10000,
    refine: 2,
    holdMs: 1000,
    users: 10000,
    order: 'RANDOM',
    domain: 'bench.test',
    localIp: '127.0.0.1',
    coolMs: 2000,
    capture: true,
    write: false,
    debug: false,
  };
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
    if (a === '--targets') o.targets = v().split(',');
    else if (a === '--workers')
      o.workers = v()
        .split(',')
        .map((x) => num(x, a));
    else if (a === '--kinds') o.kinds = v().split(',');
    else if (a === '--step-secs') o.stepSecs = num(v(), a);
    else if (a === '--latency-warm-secs') o.latencyWarmSecs = num(v(), a);
    else if (a === '--reg-start') o.regStart = num(v(), a);
    else if (a === '--reg-max') o.regMax = num(v(), a);
    else if (a === '--call-start') o.callStart = num(v(), a);
    else if (a === '--call-max') o.callMax = num(v(), a);
    else if (a === '--refine') o.refine = num(v(), a);
    else if (a === '--hold') o.holdMs = num(v(), a);
    else if (a === '--users') o.users = num(v(), a);
    else if (a === '--users-file') o.usersFile = v();
    else if (a === '--order') o.order = v().toUpperCase();
    else if (a === '--domain') o.domain = v();
    else if (a === '--callee') o.callee = v();
    else if (a === '--local-ip') o.localIp = v();
    else if (a === '--target') o.target = v();
    else if (a === '--pid') o.pid = num(v(), a);
    else if (a === '--soak') o.soak = num(v(), a);
    else if (a === '--soak-rate') o.soakRate = num(v(), a);
    else if (a === '--cool-ms') o.coolMs = num(v(), a);
    else if (a === '--no-capture') o.capture = false;
    else if (a === '--write') o.write = true;
    else if (a === '--debug') o.debug = true;
    else if (a === '--monitor') o.monitor = true;
    else if (a === '--node-args') o.nodeArgs = v().split(/\s+/).filter(Boolean);
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['RANDOM', 'SEQUENTIAL'].includes(o.order))
    throw new Error('--order is RANDOM or SEQUENTIAL');
  for (const k of o.kinds)
    if (!['register', 'call'].includes(k)) throw new Error(`unknown kind ${k}`);
  if (o.soak !== undefined && o.soakRate === undefined && !o.kinds.includes('call'))
    throw new Error('--soak needs --soak-rate or the call ramp (--kinds call)');
  o.command = `node bench/sip/run.mjs ${argv.join(' ')}`.trim();
  return o;
}

/** A free UDP port on `ip` (bound, read, released). */
async function freePort(ip) {
  const s = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  await new Promise((resolve, reject) => s.once('error', reject).bind(0, ip, resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function buildTargets(o, dir, users) {
  if (o.target !== undefined) {
    const m = /^(.+):(\d+)$/.exec(o.target);
    if (!m) throw new Error('--target is host:port');
    return [externalTarget({ host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]), pid: o.pid })];
  }
  const list = [];
  for (const t of o.targets) {
    if (t === 'kamailio')
      list.push((port) =>
        kamailioTarget({
          dir: path.join(dir, 'kamailio'),
          host: o.localIp,
          port,
          users,
          domain: o.domain,
        }),
      );
    else if (t === 'switchboard') {
      const dataDir = path.join(dir, 'switchboard', 'data');
      console.error(`seeding Switchboard: ${seedSwitchboard(dataDir, users, o.domain)}`);
      for (const w of o.workers)
        list.push((port, httpPort) =>
          switchboardTarget({
            dataDir,
            host: o.localIp,
            port,
            httpPort,
            workers: w,
            nodeArgs: o.nodeArgs,
            monitorFile: o.monitor ? path.join(dir, 'switchboard', `loop-${w}.jsonl`) : undefined,
          }),
        );
    } else throw new Error(`unknown target ${t} (kamailio, switchboard)`);
  }
  return list;
}

async function runTarget(make, o, shared, res, soaks) {
  const [port, httpPort, uasPort, uacPort] = [
    await freePort(o.localIp),
    await freePort('127.0.0.1'),
    await freePort(o.localIp),
    await freePort(o.localIp),
  ];
  const target = typeof make === 'function' ? make(port, httpPort) : make;
  let live = await target.start();
  shared.stops.add(live.stop);
  console.error(
    `\n${live.name} on ${live.host}:${live.port} (pid ${live.pid ?? '–'}; ${live.info})`,
  );
  const ctx = { ...o, ...shared, live, uasPort, uacPort, uas: undefined };
  // A target we started can start afresh (same ports); with calls, the callee registers again
  // and a new UAS starts. An external target cannot.
  if (o.target === undefined)
    ctx.restart = async () => {
      const calls = ctx.uas !== undefined;
      await ctx.uas?.stop();
      ctx.uas = undefined;
      await live.stop();
      shared.stops.delete(live.stop);
      live = ctx.live = await target.start();
      shared.stops.add(live.stop);
      if (calls) {
        await prepareCalls(ctx, 3600);
        shared.stops.add(ctx.uas.stop);
      }
    };
  const r = (res[live.name] = {});
  const kamMax = (kind) => res.kamailio?.[kind]?.max;
  try {
    for (const kind of o.kinds) {
      if (o.soak !== undefined && o.soakRate !== undefined) break;
      if (kind === 'call') {
        await prepareCalls(ctx, 3600);
        shared.stops.add(ctx.uas.stop);
      }
      const start = kind === 'register' ? o.regStart : o.callStart;
      const max = kind === 'register' ? o.regMax : o.callMax;
      r[kind] = await ramp(kind, ctx, { start, max, refine: o.refine });
      const warmSecs = o.latencyWarmSecs;
      if (r[kind].max > 0) r[kind].atMax = await latencyPoint(kind, ctx, r[kind].max, { warmSecs });
      if (kamMax(kind) > 0)
        r[kind].atHalfKam = await latencyPoint(kind, ctx, Math.round(kamMax(kind) / 2), {
          warmSecs,
        });
    }
    if (o.soak !== undefined) {
      const rate = o.soakRate ?? Math.round((r.call?.max ?? 0) / 2);
      if (rate <= 0) throw new Error('no call rate passed: nothing to soak at');
      if (ctx.uas === undefined) {
        await prepareCalls(ctx, Math.round(o.soak * 60) + 300);
        shared.stops.add(ctx.uas.stop);
      }
      console.error(`  soak: ${o.soak} min at ${rate} calls/s`);
      soaks[live.name] = await soak(ctx, rate, o.soak);
    }
  } finally {
    await ctx.uas?.stop();
    await live.stop();
    if (live.monitorFile !== undefined) printMonitor(live.monitorFile);
  }
}

/** The server's event loop delay and GC pauses, one line per 10 s sample (loop-monitor.mjs). */
function printMonitor(file) {
  if (!existsSync(file)) return;
  console.error(
    '  event loop delay p50/p99/max ms | GC minor n/ms/max, major n/ms/max | heap, rss MiB',
  );
  for (const l of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const x = JSON.parse(l);
    const g = (k) => (x.gc[k] ? `${x.gc[k].n}/${x.gc[k].ms}/${x.gc[k].max}` : '–');
    console.error(
      `  ${x.thread ?? ''} t=${x.t}s loop ${x.loop.p50}/${x.loop.p99}/${x.loop.max} | minor ${g('minor')} major ${g('major')} ` +
        `incr ${g('incremental')} | heap ${x.heapMiB}/${x.heapTotalMiB} ext ${x.externalMiB} rss ${x.rssMiB}` +
        (x.longestGc.length
          ? ` | longest GC ${x.longestGc.map((p) => `${p.kind} ${p.ms}`).join(', ')}`
          : '') +
        (x.sqlTxn?.n ? ` | SQLite txn n/ms/max ${x.sqlTxn.n}/${x.sqlTxn.ms}/${x.sqlTxn.max}` : '') +
        (x.stalls?.length
          ? ` | stalls ${x.stalls.map((p) => `${p.ms} ms @${p.at}s`).join(', ')}`
          : ''),
    );
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-sip-'));
  const shared = { dir, stops: new Set(), capture: o.capture && captureAvailable() };
  const onSignal = (code) => async () => {
    for (const stop of shared.stops) await stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    process.exit(code);
  };
  process.on('SIGINT', onSignal(130));
  process.on('SIGTERM', onSignal(143));
  if (!shared.capture)
    console.error('no capture (needs root and tcpdump): response times from SIPp (4 ms clock)');
  const users = loadUsers({ count: o.users, file: o.usersFile });
  o.users = users.length;
  shared.callee = o.callee ?? users[users.length - 1].username;
  shared.domain = o.domain;
  shared.files = writeSippFiles(dir, users, {
    domain: o.domain,
    callee: shared.callee,
    order: o.order,
  });
  const res = {};
  const soaks = {};
  try {
    for (const make of buildTargets(o, dir, users)) {
      try {
        await runTarget(make, o, shared, res, soaks);
      } catch (e) {
        console.error(`target failed: ${e.message}`);
      }
    }
  } finally {
    if (!o.debug) rmSync(dir, { recursive: true, force: true });
    else console.error(`files kept in ${dir}`);
  }
  o.targetNames = Object.keys(res);
  const kam =
    o.target === undefined && o.targets.includes('kamailio') ? kamailioVersion() : 'no Kamailio';
  console.log(`\n${table(res, o.targetNames, o.kinds).join('\n')}\n`);
  if (Object.keys(soaks).length) console.log(`${soakLines(soaks).join('\n')}\n`);
  if (o.write) {
    writeResults(path.join(ROOT, 'bench', 'RESULTS.md'), section(o, res, soaks, kam));
    console.error('wrote the SIP section of bench/RESULTS.md');
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
