#!/usr/bin/env node
// CPU per proxied call of one Switchboard worker at a FIXED rate (not a ramp): SIPp UAC →
// 407 → INVITE with credentials → 100/180/200 → ACK → BYE → 200, through the stateful
// record-routing proxy to a SIPp UAS (bench/scenarios/uac-auth.xml, uas.xml), media anchoring
// off unless --media-mode always (SDP rewritten, relay sessions opened). Seeds a data directory,
// starts the built server (optionally under `node --cpu-prof`),
// registers the callee, runs a bounded number of calls and prints the server's CPU ms per call
// (utime + stime from /proc). --warm-calls runs that many calls first, unmeasured, so the JIT has
// compiled the call path (a cold run spends a quarter of its CPU in V8's compiler). Use it to compare a change before/after in the same conditions.
//
//   npm run build && node bench/sip/profile-call.mjs [--rate 50] [--calls 500] [--warm-calls 0] [--users 2000]
//       [--repeat 1] [--media-mode never|always|nat] [--cpu-prof] [--perf] [--keep]
//       [--node-arg <arg> ...]
//
// --cpu-prof writes a V8 profile into the temporary directory and prints the functions with the
// most self and inclusive time (profile-summary.mjs). Bounded in count and time; the server and
// SIPp are stopped by pid. --perf samples the server on CPU with Linux perf during the calls
// (node --perf-basic-prof names JIT frames) and prints the top symbols: unlike the V8 profile,
// which counts wall time between samples, it shows where CPU time goes on a busy machine.
// --node-arg passes an option to the server's node (e.g. --trace-gc-nvp, --max-semi-space-size=8).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './profile-summary.mjs';
import { processTicks, sleep, HZ } from './proc-tree.mjs';
import { seedSwitchboard } from './targets.mjs';
import { loadUsers, writeSippFiles } from './users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, '..', '..', 'packages', 'control', 'dist', 'cli', 'main.js');
const SCENARIOS = path.join(HERE, '..', 'scenarios');
const DOMAIN = 'bench.test';

function parseArgs(argv) {
  const o = { rate: 50, calls: 500, users: 2000, repeat: 1, cpuProf: false, perf: false };
  o.keep = false;
  o.warmCalls = 0;
  o.mediaMode = 'never';
  o.nodeArgs = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--rate') o.rate = Number(v());
    else if (a === '--calls') o.calls = Number(v());
    else if (a === '--warm-calls') o.warmCalls = Number(v());
    else if (a === '--users') o.users = Number(v());
    else if (a === '--repeat') o.repeat = Number(v());
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--perf') o.perf = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--media-mode') o.mediaMode = v();
    else if (a === '--node-arg') o.nodeArgs.push(v());
    else if (/^\d+$/.test(a)) o.rate = Number(a);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function freePort(type = 'udp4') {
  const { createSocket } = await import('node:dgram');
  const s = createSocket(type);
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  s.close();
  return port;
}

function sipp(dir, target, args, timeoutMs) {
  return spawnSync('sipp', [target, '-i', '127.0.0.1', '-nostdin', ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    cwd: dir,
  });
}

async function oneRun(o) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-call-prof-'));
  const dataDir = path.join(dir, 'data');
  const users = loadUsers({ count: o.users });
  const callee = users[0].username;
  seedSwitchboard(dataDir, users, DOMAIN);
  writeSippFiles(dir, users, { domain: DOMAIN, callee, order: 'SEQUENTIAL' });
  const [sipPort, httpPort, uasPort, uacPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const nodeArgs = [...o.nodeArgs];
  if (o.cpuProf) nodeArgs.push('--cpu-prof', '--cpu-prof-dir', dir);
  if (o.perf) nodeArgs.push('--perf-basic-prof');
  const srv = spawn(
    process.execPath,
    [
      ...nodeArgs,
      CLI,
      'start',
      '--data-dir',
      dataDir,
      '--host',
      '127.0.0.1',
      '--port',
      String(httpPort),
      '--sip-host',
      '127.0.0.1',
      '--sip-udp-port',
      String(sipPort),
      '--sip-tcp-port',
      'off',
      '--sip-ws-port',
      'off',
      '--media-mode',
      o.mediaMode,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const target = `127.0.0.1:${sipPort}`;
  let uas;
  try {
    await sleep(3000);
    const reg = sipp(
      dir,
      target,
      [
        '-sf',
        path.join(SCENARIOS, 'register-digest.xml'),
        '-inf',
        path.join(dir, 'callee.csv'),
        '-p',
        String(uasPort),
        '-m',
        '1',
        '-timeout',
        '10',
        '-auth_uri',
        DOMAIN,
      ],
      15000,
    );
    if (reg.status !== 0) throw new Error(`callee registration failed (sipp exit ${reg.status})`);
    uas = spawn(
      'sipp',
      [
        '-sf',
        path.join(SCENARIOS, 'uas.xml'),
        '-i',
        '127.0.0.1',
        '-p',
        String(uasPort),
        '-nostdin',
        '-timeout',
        '300s',
      ],
      { cwd: dir, stdio: 'ignore' },
    );
    await sleep(500);
    if (o.warmCalls > 0) {
      const warm = sipp(
        dir,
        target,
        [
          '-sf',
          path.join(SCENARIOS, 'uac-auth.xml'),
          '-inf',
          path.join(dir, 'uac.csv'),
          '-p',
          String(uacPort),
          '-r',
          String(o.rate),
          '-m',
          String(o.warmCalls),
          '-timeout',
          '60',
          '-auth_uri',
          `${callee}@${DOMAIN}`,
          '-d',
          '200',
        ],
        90000,
      );
      if (warm.status !== 0) throw new Error(`warm-up calls failed (sipp exit ${warm.status})`);
      await sleep(500);
    }
    const perf = o.perf
      ? spawn(
          'perf',
          ['record', '-F', '499', '-g', '-o', path.join(dir, 'perf.data'), '-p', String(srv.pid)],
          { stdio: 'ignore' },
        )
      : undefined;
    const threads0 = threadTicks(srv.pid);
    const t0 = processTicks(srv.pid);
    const statFile = path.join(dir, 'uac.stat.csv');
    const uac = sipp(
      dir,
      target,
      [
        '-sf',
        path.join(SCENARIOS, 'uac-auth.xml'),
        '-inf',
        path.join(dir, 'uac.csv'),
        '-p',
        String(uacPort),
        '-r',
        String(o.rate),
        '-m',
        String(o.calls),
        '-timeout',
        '60',
        '-auth_uri',
        `${callee}@${DOMAIN}`,
        '-d',
        '200',
        '-trace_stat',
        '-stf',
        statFile,
      ],
      90000,
    );
    const t1 = processTicks(srv.pid);
    const threads = threadTicks(srv.pid, threads0);
    if (perf !== undefined) {
      perf.kill('SIGINT');
      await new Promise((r) => (perf.exitCode === null ? perf.on('exit', r) : r()));
    }
    const cpuMs = ((t1 - t0) * 1000) / HZ;
    const perThread = Object.entries(threads)
      .filter(([, v]) => v.user + v.sys > 0)
      .map(
        ([name, v]) =>
          `${name} ${((v.user * 1000) / HZ / o.calls).toFixed(2)}u+${((v.sys * 1000) / HZ / o.calls).toFixed(2)}s`,
      )
      .join(', ');
    return {
      dir,
      exit: uac.status,
      cpuMsPerCall: cpuMs / o.calls,
      stats: lastStats(statFile),
      perThread,
    };
  } finally {
    if (uas !== undefined) uas.kill('SIGTERM');
    srv.kill('SIGTERM');
    await new Promise((r) => (srv.exitCode === null ? srv.on('exit', r) : r()));
  }
}

/** utime and stime (jiffies) per thread name, minus `base` when given. */
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
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/\d+$/, '');
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

function lastStats(file) {
  const r = spawnSync('bash', ['-c', `head -1 '${file}'; tail -1 '${file}'`], { encoding: 'utf8' });
  const [head = '', last = ''] = r.stdout.trim().split('\n');
  const names = head.split(';');
  const values = last.split(';');
  const pick = (n) => values[names.indexOf(n)];
  return { ok: pick('SuccessfulCall(C)'), failed: pick('FailedCall(C)') };
}

const o = parseArgs(process.argv.slice(2));
const results = [];
for (let i = 0; i < o.repeat; i++) {
  const r = await oneRun(o);
  results.push(r.cpuMsPerCall);
  console.log(
    `run ${i + 1}: sipp exit ${r.exit}, calls ok ${r.stats.ok} failed ${r.stats.failed}, ` +
      `server CPU ${r.cpuMsPerCall.toFixed(2)} ms/call (${r.perThread})`,
  );
  if (o.cpuProf) {
    const prof = readdirSync(r.dir).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of prof) console.log(summarize(path.join(r.dir, f), { top: 40 }));
  }
  if (o.perf) {
    const report = spawnSync(
      'perf',
      [
        'report',
        '-i',
        path.join(r.dir, 'perf.data'),
        '--no-children',
        '--sort',
        'dso,sym',
        '--stdio',
        '-g',
        'none',
        '--percent-limit',
        '0.4',
      ],
      { encoding: 'utf8', maxBuffer: 64 << 20 },
    );
    console.log(
      report.stdout
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .slice(0, 70)
        .join('\n'),
    );
  }
  if (o.keep) console.log(`kept ${r.dir}`);
  else rmSync(r.dir, { recursive: true, force: true });
}
const sorted = [...results].sort((a, b) => a - b);
console.log(`median server CPU ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} ms/call`);
