#!/usr/bin/env node
// CPU and memory per REGISTER exchange of one Switchboard worker at a FIXED rate (not a ramp):
// REGISTER → 401, REGISTER + Authorization → 200 (bench/scenarios/register-digest.xml).
// Seeds a data directory, starts the built server (optionally under `node --cpu-prof`), warms it
// up (every user once, then --warm-secs at the rate), drives SIPp for a bounded count and prints
// the server's CPU µs per exchange (utime + stime from /proc) and its RSS. Use it to compare a
// change before/after in the same conditions.
//
//   npm run build && node bench/sip/profile-register.mjs [--rate 300] [--secs 20] [--warm-secs 5]
//       [--users 10000] [--order RANDOM] [--repeat 1] [--cpu-prof] [--keep] [--floor]
//
// --cpu-prof writes a V8 profile of the server into the temporary directory and prints the
// functions with the most self and total time (see profile-summary.mjs). --floor drives
// profile-floor.mjs instead (receive, parse, respond, send: no SIP logic), the cost any Node
// SIP server pays. Bounded in count and time; the server and SIPp are stopped by pid.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { summarize } from './profile-summary.mjs';
import { treeSample, sleep, HZ } from './proc-tree.mjs';
import { runClient } from './sipp.mjs';
import { seedSwitchboard } from './targets.mjs';
import { loadUsers, writeSippFiles } from './users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CLI = path.join(HERE, '..', '..', 'packages', 'control', 'dist', 'cli', 'main.js');

function parseArgs(argv) {
  const o = { rate: 300, secs: 20, warmSecs: 5, users: 10000, order: 'RANDOM', repeat: 1 };
  o.cpuProf = false;
  o.keep = false;
  o.domain = 'bench.test';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => argv[++i];
    if (a === '--rate') o.rate = Number(v());
    else if (a === '--secs') o.secs = Number(v());
    else if (a === '--warm-secs') o.warmSecs = Number(v());
    else if (a === '--users') o.users = Number(v());
    else if (a === '--order') o.order = v();
    else if (a === '--repeat') o.repeat = Number(v());
    else if (a === '--cpu-prof') o.cpuProf = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--floor') o.floor = true;
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

async function freePort() {
  const { createSocket } = await import('node:dgram');
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  s.close();
  return port;
}

async function startServer(o, dir, dataDir, sipPort, httpPort) {
  // SIPp 3.6 answers only MD5 challenges: offer MD5 alone.
  const profile = o.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', path.join(dir, 'prof')] : [];
  const server = o.floor
    ? [path.join(HERE, 'profile-floor.mjs'), '--port', String(sipPort)]
    : [
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
        'never',
        '--log-level',
        'warn',
      ];
  const child = spawn(process.execPath, [...profile, ...server], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SWITCHBOARD_SIP_DIGEST_ALGORITHMS: 'MD5' },
  });
  let out = '';
  child.stdout.on('data', (d) => (out = (out + d).slice(-20000)));
  child.stderr.on('data', (d) => (out = (out + d).slice(-20000)));
  const exited = once(child, 'exit');
  for (let i = 0; i < 300 && !/SIP listening on/.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`server exited:\n${out.slice(-2000)}`);
    await sleep(100);
  }
  if (!/SIP listening on/.test(out)) {
    child.kill('SIGKILL');
    throw new Error(`server did not start:\n${out.slice(-2000)}`);
  }
  return {
    pid: child.pid,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 15000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** [utime, stime] of one process in jiffies. */
function userSys(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return [Number(f[11]), Number(f[12])];
}

async function step(o, server, files, dir, port, rate, secs, localPort) {
  const us0 = userSys(server.pid);
  const before = treeSample(server.pid);
  let peakRss = before.rssKiB;
  const poll = setInterval(() => (peakRss = Math.max(peakRss, treeSample(server.pid).rssKiB)), 500);
  const r = await runClient({
    name: 'reg',
    dir,
    host: '127.0.0.1',
    port,
    scenario: 'register-digest.xml',
    inf: files.register,
    localIp: '127.0.0.1',
    localPort,
    // SIPp 3.6 puts this digest-uri in every credential (the Request-URI of the scenario)
    authUri: o.domain,
    rate,
    count: Math.round(rate * secs),
    timeoutSecs: secs + 20,
  });
  clearInterval(poll);
  const after = treeSample(server.pid);
  const us1 = userSys(server.pid);
  const cpuSecs = (after.ticks - before.ticks) / HZ;
  const per = (i) => (r.ok > 0 ? ((us1[i] - us0[i]) * 1e6) / HZ / r.ok : NaN);
  return {
    ok: r.ok,
    failed: r.failed + r.unfinished,
    retrans: r.retransmissions,
    wallSecs: r.wallSecs,
    cpuSecs,
    usPerExchange: r.ok > 0 ? (cpuSecs * 1e6) / r.ok : NaN,
    userUs: per(0),
    sysUs: per(1),
    rssBeforeMiB: before.rssKiB / 1024,
    rssAfterMiB: after.rssKiB / 1024,
    rssPeakMiB: Math.max(peakRss, after.rssKiB) / 1024,
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sb-prof-reg-'));
  const users = loadUsers({ count: o.users });
  const files = writeSippFiles(dir, users, {
    domain: o.domain,
    callee: users[0].username,
    order: o.order,
  });
  const dataDir = path.join(dir, 'data');
  if (!o.floor) seedSwitchboard(dataDir, users, o.domain);
  const port = await freePort();
  const server = await startServer(o, dir, dataDir, port, await freePort());
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  try {
    const localPort = await freePort();
    if (o.warmSecs > 0) {
      // every user once (their credentials cached, as in a long run), then `warmSecs` at the rate
      const all = { register: path.join(dir, 'warm.csv') };
      writeFileSync(
        all.register,
        readFileSync(files.register, 'utf8').replace(/^RANDOM/, 'SEQUENTIAL'),
      );
      const warmRate = Math.max(o.rate, 1000);
      await step(o, server, all, dir, port, warmRate, users.length / warmRate, localPort);
      const w = await step(o, server, files, dir, port, o.rate, o.warmSecs, localPort);
      console.log(`warm-up: ${w.ok} ok, ${w.failed} failed, ${f(w.usPerExchange)} µs/exchange`);
    }
    console.log(
      '| rate/s | ok | failed | retrans | CPU s | CPU µs/exchange (user + sys) | RSS before → after (peak) MiB |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (let i = 0; i < o.repeat; i++) {
      await sleep(1000);
      const s = await step(o, server, files, dir, port, o.rate, o.secs, localPort);
      console.log(
        `| ${o.rate} | ${s.ok} | ${s.failed} | ${s.retrans} | ${f(s.cpuSecs, 2)} | ${f(s.usPerExchange)} (${f(s.userUs, 0)} + ${f(s.sysUs, 0)}) | ${f(s.rssBeforeMiB)} → ${f(s.rssAfterMiB)} (${f(s.rssPeakMiB)}) |`,
      );
    }
  } finally {
    await server.stop();
  }
  if (o.cpuProf) {
    const profDir = path.join(dir, 'prof');
    const file = readdirSync(profDir).find((x) => x.endsWith('.cpuprofile'));
    if (file === undefined) console.log('no profile written');
    else {
      console.log(`profile: ${path.join(profDir, file)}`);
      console.log(summarize(path.join(profDir, file), { top: 45 }));
    }
  }
  if (!o.keep && !o.cpuProf) rmSync(dir, { recursive: true, force: true });
  else console.log(`kept ${dir}`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
