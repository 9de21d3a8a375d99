// The two systems of the B2BUA benchmark, each started on free loopback ports and stopped by pid:
//  - Switchboard (`switchboard start`, media anchored, outbound via the B2BUA) with one account,
//    the benchmark users, a trunk to the SIPp UAS and an outbound route to it;
//  - Kamailio (bench/kamailio/kamailio-rtpengine.cfg) with rtpengine anchoring the same calls.
// Each start() resolves once SIP is up and returns { name, host, port, pid, stop(), info,
// sessions() }: sessions() is the number of media sessions open on the target's relay.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NgClient } from '../rtp/ng.mjs';
import { sleep } from '../sip/proc-tree.mjs';
import { kamailioVersion, seedSwitchboard } from '../sip/targets.mjs';
import { writeKamailioTables } from '../sip/users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CLI = path.join(ROOT, 'packages', 'control', 'dist', 'cli', 'main.js');
const KAMAILIO = '/usr/sbin/kamailio';
const RTPENGINE = '/usr/bin/rtpengine';
const KAMAILIO_MODULES = [
  '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  '/usr/lib/kamailio/modules',
];

/**
 * Spawns `cmd`, waits for `ready` in its output (undefined: only that it did not exit at once);
 * stop() ends it by pid (TERM, then KILL).
 */
async function spawnServer(name, cmd, args, ready) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const onData = (d) => (out = (out + d).slice(-20000));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = once(child, 'exit');
  if (ready === undefined) await sleep(200);
  for (let i = 0; ready !== undefined && i < 300 && !ready.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${out.slice(-2000)}`);
    await sleep(100);
  }
  if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${out.slice(-2000)}`);
  if (ready !== undefined && !ready.test(out)) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start within 30 s:\n${out.slice(-2000)}`);
  }
  return {
    pid: child.pid,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** The trunk to the UAS and an outbound route for `prefix` over it, via `switchboard import`. */
function provisionTrunk(dataDir, { uas, prefix }) {
  const Database = createRequire(path.join(ROOT, 'packages', 'control', 'package.json'))(
    'better-sqlite3',
  );
  const query = (sql) => {
    const db = new Database(path.join(dataDir, 'switchboard.db'), { readonly: true });
    try {
      return db.prepare(sql).get();
    } finally {
      db.close();
    }
  };
  const account = query('SELECT id FROM account ORDER BY created_at LIMIT 1').id;
  const load = (name, doc) => {
    const file = path.join(dataDir, '..', name);
    writeFileSync(file, `${JSON.stringify(doc)}\n`);
    execFileSync(process.execPath, [CLI, 'import', file, '--data-dir', dataDir], {
      encoding: 'utf8',
    });
  };
  load('trunk.json', {
    account_id: account,
    trunks: [
      { name: 'SIPp carrier', proxy_host: uas.host, proxy_port: uas.port, transport: 'udp' },
    ],
  });
  const trunk = query("SELECT id FROM sip_trunk WHERE name = 'SIPp carrier'").id;
  load('route.json', {
    account_id: account,
    outbound_routes: [{ name: 'bench', prefix, trunks: [{ trunk_id: trunk }] }],
  });
}

/** Open relay sessions from the /metrics endpoint (undefined when it cannot be read). */
async function metricSessions(httpPort) {
  try {
    const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
    const text = await res.text();
    const m = /^switchboard_relay_sessions_active(?:\{[^}]*\})? (\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function switchboardB2bua(o) {
  return {
    name: 'switchboard',
    async start() {
      const dataDir = path.join(o.dir, 'switchboard', 'data');
      // (a restart after a failed step keeps the data seeded by the first start)
      if (!existsSync(path.join(dataDir, 'switchboard.db'))) {
        seedSwitchboard(dataDir, o.users, o.domain);
        provisionTrunk(dataDir, { uas: { host: o.host, port: o.uasPort }, prefix: o.prefix });
      }
      // nodeArgs: options for node itself (--cpu-prof, --import of a probe); serverArgs: more CLI flags.
      const args = [...(o.nodeArgs ?? []), CLI, 'start', '--data-dir', dataDir];
      args.push('--host', '127.0.0.1');
      args.push('--port', String(o.httpPort), '--sip-host', o.host);
      args.push('--sip-udp-port', String(o.port), '--sip-tcp-port', 'off', '--sip-ws-port', 'off');
      args.push('--media-mode', 'always', '--sip-outbound', 'b2bua');
      args.push('--rtp-min', String(o.rtp.min), '--rtp-max', String(o.rtp.max));
      // SIPp 3.6 answers only MD5 challenges: offer MD5 alone, as the Kamailio config does.
      args.push('--sip-digest-algorithms', 'MD5', '--log-level', 'warn');
      args.push(...(o.serverArgs ?? []));
      const s = await spawnServer('switchboard', process.execPath, args, /SIP listening on/);
      const relay = /RTP relay[^\n]*|media[^\n]*relay[^\n]*/i.exec(s.output())?.[0]?.trim();
      return {
        name: 'switchboard',
        host: o.host,
        port: o.port,
        pid: s.pid,
        stop: s.stop,
        info: `B2BUA, media anchored on the native relay${relay ? ` (${relay})` : ''}`,
        sessions: () => metricSessions(o.httpPort),
      };
    },
  };
}

function kamailioModules() {
  for (const dir of KAMAILIO_MODULES)
    if (existsSync(path.join(dir, 'rtpengine.so')) && existsSync(path.join(dir, 'htable.so')))
      return dir;
  throw new Error(
    'Kamailio modules with rtpengine.so not found (kamailio, kamailio-extra-modules)',
  );
}

export function rtpengineVersion() {
  const r = spawnSync(RTPENGINE, ['--version'], { encoding: 'utf8' });
  const version = /Version: (\S+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1];
  return `rtpengine ${version ?? '(version unknown)'}`;
}

/** rtpengine in the foreground, userspace forwarding (no kernel table), ng on UDP. */
async function startRtpengine(o) {
  const args = ['--foreground', '--log-stderr', '--log-level', '5', '--table', '-1'];
  args.push('--interface', o.host, '--listen-ng', `${o.host}:${o.ngPort}`);
  args.push('--port-min', String(o.rtp.min), '--port-max', String(o.rtp.max));
  args.push('--pidfile', path.join(o.dir, 'rtpengine.pid'), '--num-threads', '2');
  // Sessions go when the BYE is seen, as the relay's do (default: 30 s later).
  args.push('--delete-delay', '0');
  // No ready banner to wait for: the ng socket answers `ping` once it is up.
  const child = await spawnServer('rtpengine', RTPENGINE, args, undefined);
  const ng = new NgClient(o.host, o.ngPort);
  for (let i = 0; i < 50; i++) {
    try {
      const r = await ng.command({ command: 'ping' }, 200);
      if (r.result === 'pong') return { ...child, ng };
    } catch {}
    await sleep(100);
  }
  ng.close();
  await child.stop();
  throw new Error(`rtpengine did not answer ng ping:\n${child.output().slice(-2000)}`);
}

export function kamailioRtpengine(o) {
  return {
    name: 'kamailio+rtpengine',
    async start() {
      const dir = path.join(o.dir, 'kamailio');
      const db = path.join(dir, 'db');
      mkdirSync(db, { recursive: true });
      writeKamailioTables(db, o.users);
      const rtp = await startRtpengine({ ...o, dir });
      const cfg = readFileSync(path.join(HERE, '..', 'kamailio', 'kamailio-rtpengine.cfg'), 'utf8')
        .replaceAll('@@ADDRESS@@', o.host)
        .replaceAll('@@PORT@@', String(o.port))
        .replaceAll('@@CHILDREN@@', String(o.kamailioChildren ?? 1))
        .replaceAll('@@DOMAIN@@', o.domain)
        .replaceAll('@@DBDIR@@', db)
        .replaceAll('@@MODULES@@', kamailioModules())
        .replaceAll('@@TRUNK@@', `${o.host}:${o.uasPort}`)
        .replaceAll('@@NG@@', `${o.host}:${o.ngPort}`)
        .replaceAll('@@SECRET@@', `bench${process.pid}${Date.now()}`);
      const file = path.join(dir, 'kamailio.cfg');
      writeFileSync(file, cfg);
      let kam;
      try {
        const args = ['-f', file, '-DD', '-E', '-m', '256', '-M', '16'];
        args.push('-P', path.join(dir, 'kamailio.pid'));
        kam = await spawnServer('kamailio', KAMAILIO, args, /Aliases:/);
      } catch (err) {
        rtp.ng.close();
        await rtp.stop();
        throw err;
      }
      await sleep(500); // the children finish their init after the banner
      return {
        name: 'kamailio+rtpengine',
        host: o.host,
        port: o.port,
        pid: kam.pid,
        rtpenginePid: rtp.pid,
        info: `${kamailioVersion()} + ${rtpengineVersion()} (userspace)`,
        async sessions() {
          try {
            const r = await rtp.ng.command({ command: 'list', limit: '100000' }, 1000);
            return Array.isArray(r.calls) ? r.calls.length : undefined;
          } catch {
            return undefined;
          }
        },
        async stop() {
          await kam.stop();
          rtp.ng.close();
          await rtp.stop();
        },
      };
    },
  };
}
