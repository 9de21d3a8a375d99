// The systems under test: Switchboard (`switchboard start`, seeded data directory), Kamailio
// (bench/kamailio/kamailio.cfg rendered into a temporary directory) and any external SIP server
// (`--target host:port`, no process to measure). Each start() resolves once SIP is up and
// returns { name, host, port, pid, stop() }; stop() ends only the process it started, by pid.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sleep } from './proc-tree.mjs';
import { writeKamailioTables, writeSwitchboardCsv } from './users.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const CLI = path.join(ROOT, 'packages', 'control', 'dist', 'cli', 'main.js');
const KAMAILIO = '/usr/sbin/kamailio';
const KAMAILIO_MODULES = [
  '/usr/lib/x86_64-linux-gnu/kamailio/modules',
  '/usr/lib/kamailio/modules',
];

/** Spawns `cmd`, waits for `ready` on stdout/stderr; the returned stop() kills it by pid. */
async function spawnServer(name, cmd, args, ready, opts = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  let out = '';
  const onData = (d) => (out = (out + d).slice(-20000));
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = once(child, 'exit');
  for (let i = 0; i < 300 && !ready.test(out); i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited at start:\n${out.slice(-2000)}`);
    await sleep(100);
  }
  if (!ready.test(out)) {
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

function cliHelp() {
  return spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout ?? '';
}

/** A data directory with one account and the users, through `switchboard import`. */
export function seedSwitchboard(dir, users, domain) {
  mkdirSync(dir, { recursive: true });
  const run = (...a) =>
    execFileSync(process.execPath, [CLI, ...a, '--data-dir', dir], { encoding: 'utf8' });
  writeFileSync(path.join(dir, '..', 'account.json'), '{"accounts":[{"name":"SIP bench"}]}\n');
  run('import', path.join(dir, '..', 'account.json'));
  // `switchboard import` does not print the ids it creates: read the account id back.
  const Database = createRequire(path.join(ROOT, 'packages', 'control', 'package.json'))(
    'better-sqlite3',
  );
  const db = new Database(path.join(dir, 'switchboard.db'), { readonly: true });
  const account = db.prepare('SELECT id FROM account ORDER BY created_at LIMIT 1').get().id;
  db.close();
  const csv = path.join(dir, '..', 'users.csv');
  writeSwitchboardCsv(csv, users, domain);
  const out = run('import', csv, '--account', account);
  return out.trim();
}

export function switchboardTarget({
  dataDir,
  host,
  port,
  httpPort,
  workers,
  nodeArgs,
  monitorFile,
}) {
  const name = workers > 1 ? `switchboard ×${workers}` : 'switchboard';
  return {
    name,
    kind: 'switchboard',
    workers,
    async start() {
      const help = cliHelp();
      const args = [
        CLI,
        'start',
        '--data-dir',
        dataDir,
        '--host',
        '127.0.0.1',
        '--port',
        String(httpPort),
      ];
      args.push('--sip-host', host, '--sip-udp-port', String(port), '--sip-tcp-port', 'off');
      args.push('--sip-ws-port', 'off', '--media-mode', 'never', '--log-level', 'warn');
      if (workers > 1 || help.includes('--workers')) {
        if (!help.includes('--workers'))
          throw new Error('this build of switchboard has no --workers flag yet');
        args.push('--workers', String(workers));
      }
      // SIPp 3.6 answers only MD5 challenges: offer MD5 alone, as the Kamailio config does.
      const node = [...args, '--sip-digest-algorithms', 'MD5'];
      // Measurement only: node flags (--cpu-prof ...) and the loop/GC monitor (loop-monitor.mjs).
      const pre = [...(nodeArgs ?? [])];
      const env = { ...process.env };
      if (monitorFile !== undefined) {
        pre.push('--import', path.join(HERE, 'loop-monitor.mjs'));
        env.SB_LOOP_LOG = monitorFile;
      }
      const s = await spawnServer(name, process.execPath, [...pre, ...node], /SIP listening on/, {
        cwd: path.dirname(dataDir),
        env,
      });
      const info = `media anchoring off${pre.length ? `; node ${pre.join(' ')}` : ''}`;
      return { name, host, port, pid: s.pid, stop: s.stop, info, monitorFile };
    },
  };
}

function kamailioModules() {
  for (const dir of KAMAILIO_MODULES) {
    try {
      readFileSync(path.join(dir, 'htable.so'));
      return dir;
    } catch {}
  }
  throw new Error('Kamailio modules not found (apt-get install kamailio)');
}

export function kamailioVersion() {
  const r = spawnSync(KAMAILIO, ['-v'], { encoding: 'utf8' });
  return /version: (\S+ \S+)/.exec(r.stdout ?? '')?.[1] ?? 'kamailio (version unknown)';
}

export function kamailioTarget({ dir, host, port, users, domain, shmMiB = 256 }) {
  return {
    name: 'kamailio',
    kind: 'kamailio',
    async start() {
      const db = path.join(dir, 'db');
      mkdirSync(db, { recursive: true });
      writeKamailioTables(db, users);
      const cfg = readFileSync(path.join(HERE, '..', 'kamailio', 'kamailio.cfg'), 'utf8')
        .replaceAll('@@ADDRESS@@', host)
        .replaceAll('@@PORT@@', String(port))
        .replaceAll('@@DOMAIN@@', domain)
        .replaceAll('@@DBDIR@@', db)
        .replaceAll('@@MODULES@@', kamailioModules())
        .replaceAll('@@SECRET@@', `bench${process.pid}${Date.now()}`);
      const file = path.join(dir, 'kamailio.cfg');
      writeFileSync(file, cfg);
      // -DD: stay in the foreground (children still fork), -E: log to stderr.
      const args = [
        '-f',
        file,
        '-DD',
        '-E',
        '-m',
        String(shmMiB),
        '-M',
        '16',
        '-P',
        path.join(dir, 'kamailio.pid'),
      ];
      const s = await spawnServer('kamailio', KAMAILIO, args, /Aliases:/);
      await sleep(500); // the children finish their init after the banner
      return { name: 'kamailio', host, port, pid: s.pid, stop: s.stop, info: kamailioVersion() };
    },
  };
}

/** Any SIP server: nothing to start or measure. */
export function externalTarget({ host, port, pid }) {
  return {
    name: `${host}:${port}`,
    kind: 'external',
    async start() {
      return { name: `${host}:${port}`, host, port, pid, stop: async () => {}, info: 'external' };
    },
  };
}
