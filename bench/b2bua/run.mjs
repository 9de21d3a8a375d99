#!/usr/bin/env node
// B2BUA benchmark: calls per second with media anchored, SIPp UAC → target → SIPp UAS (the
// carrier trunk), for Switchboard's B2BUA (outbound route to the trunk, native relay) and for
// Kamailio as a stateful proxy with rtpengine anchoring the same calls, in the same run, one after
// the other on loopback. Ramps each to the highest rate with < 0.1 % failed calls and reports it
// with the ratio to Kamailio + rtpengine. Not a test: minutes of load, wants a quiet machine.
//
//   npm run build && node bench/b2bua/run.mjs [--targets kamailio+rtpengine,switchboard]
//       [--start 100] [--max 8000] [--step-secs 10] [--refine 2] [--hold 1000] [--users 1000]
//       [--kamailio-children 1] [--switchboard-workers 1] [--small] [--write] [--debug]
//
// --small: a quick proof that everything runs (two short steps per target). Every load step is
// bounded in count (-m) and time (-timeout, then SIGKILL); every process started here is stopped
// by pid. Needs `sipp` (Debian sip-tester), `kamailio` with its rtpengine module, `rtpengine`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from '../sip/proc-tree.mjs';
import { ramp } from '../sip/ramp.mjs';
import { startUas } from '../sip/sipp.mjs';
import { kamailioVersion } from '../sip/targets.mjs';
import { loadUsers } from '../sip/users.mjs';
import { section, table, writeResults } from './results.mjs';
import { NUMBER, PREFIX, RTP, freePorts, writeCallers } from './setup.mjs';
import { kamailioRtpengine, switchboardB2bua } from './targets.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const KAMAILIO = 'kamailio+rtpengine';

function parseArgs(argv) {
  const o = {
    targets: [KAMAILIO, 'switchboard'],
    start: 100,
    max: 8000,
    stepSecs: 10,
    refine: 2,
    holdMs: 1000,
    users: 1000,
    domain: 'bench.test',
    localIp: '127.0.0.1',
    coolMs: 2000,
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
    else if (a === '--start') o.start = num(v(), a);
    else if (a === '--max') o.max = num(v(), a);
    else if (a === '--kamailio-children') o.kamailioChildren = num(v(), a);
    else if (a === '--switchboard-workers') o.switchboardWorkers = num(v(), a);
    else if (a === '--step-secs') o.stepSecs = num(v(), a);
    else if (a === '--refine') o.refine = num(v(), a);
    else if (a === '--hold') o.holdMs = num(v(), a);
    else if (a === '--users') o.users = num(v(), a);
    else if (a === '--cool-ms') o.coolMs = num(v(), a);
    else if (a === '--small')
      Object.assign(o, { start: 10, max: 20, stepSecs: 3, refine: 0, users: 20, coolMs: 500 });
    else if (a === '--write') o.write = true;
    else if (a === '--debug') o.debug = true;
    else throw new Error(`unknown option ${a}`);
  }
  for (const t of o.targets)
    if (t !== KAMAILIO && t !== 'switchboard') throw new Error(`unknown target ${t}`);
  o.names = o.targets;
  o.command = `node bench/b2bua/run.mjs ${argv.join(' ')}`.trim();
  return o;
}

/** Samples the target's open media sessions every 250 ms; stop() returns the peak. */
/** Samples the open media sessions of `ctx.live` (replaced when the target restarts). */
function sampleSessions(ctx) {
  let peak = 0;
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const n = await ctx.live.sessions();
    if (Number.isFinite(n)) peak = Math.max(peak, n);
    busy = false;
  }, 250);
  return () => (clearInterval(timer), peak);
}

async function benchTarget(name, o, dir, users, uac) {
  const ports = await freePorts();
  const tdir = path.join(dir, name.replace(/\W/g, '-'));
  const common = { dir: tdir, host: o.localIp, users, domain: o.domain, rtp: RTP, ...ports };
  const target =
    name === KAMAILIO
      ? kamailioRtpengine({ ...common, kamailioChildren: o.kamailioChildren })
      : switchboardB2bua({
          ...common,
          prefix: PREFIX,
          serverArgs: o.switchboardWorkers > 1 ? ['--workers', String(o.switchboardWorkers)] : [],
        });
  console.error(`${name}: starting`);
  let live = await target.start();
  const budget = (o.stepSecs + o.holdMs / 1000 + 30) * 20;
  const uas = startUas({
    dir,
    localIp: o.localIp,
    localPort: ports.uasPort,
    timeoutSecs: Math.ceil(budget),
    debug: o.debug,
  });
  const ctx = { live };
  const stopSampling = sampleSessions(ctx);
  try {
    await sleep(500);
    if (!uas.alive()) throw new Error(`the SIPp UAS did not start: ${uas.stderr()}`);
    Object.assign(ctx, {
      dir,
      live,
      localIp: o.localIp,
      files: { uac },
      uacPort: ports.uacPort,
      uasPort: ports.uasPort,
      callee: NUMBER,
      domain: o.domain,
      holdMs: o.holdMs,
      stepSecs: o.stepSecs,
      coolMs: o.coolMs,
      debug: o.debug,
      uas,
      capture: false,
      // a failed step restarts the target (ramp.mjs), so the next step starts from a clean one
      restart: async () => {
        await live.stop();
        live = ctx.live = await target.start();
      },
    });
    const r = await ramp('call', ctx, { start: o.start, max: o.max, refine: o.refine });
    await sleep(o.holdMs + 1500);
    const left = await live.sessions();
    return { ...r, peak: stopSampling(), left, info: live.info };
  } finally {
    stopSampling();
    await uas.stop();
    await live.stop();
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-bench-b2bua-'));
  const res = {};
  try {
    const users = loadUsers({ count: o.users });
    const uac = writeCallers(dir, users, o.domain);
    for (const name of o.targets) res[name] = await benchTarget(name, o, dir, users, uac);
  } finally {
    if (!o.debug) rmSync(dir, { recursive: true, force: true });
    else console.error(`files kept in ${dir}`);
  }
  console.log(table(res, o.names).join('\n'));
  const base = res[KAMAILIO]?.max;
  const sb = res.switchboard?.max;
  if (base && sb !== undefined)
    console.log(`\nSwitchboard B2BUA / Kamailio + rtpengine: ${(sb / base).toFixed(2)}×`);
  if (o.write) {
    writeResults(path.join(ROOT, 'bench', 'RESULTS.md'), section(o, res, kamailioVersion()));
    console.error('written to bench/RESULTS.md');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
