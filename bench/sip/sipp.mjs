// Running SIPp: one bounded load step (rate, count, global timeout), the long-running UAS, and
// reading back SIPp's statistics file (-trace_stat) and response times (-trace_rtt).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTicks, HZ } from './proc-tree.mjs';
import { readErrors } from './sipp-errors.mjs';

export const SCENARIOS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'scenarios',
);

/** The last row of a SIPp statistics CSV as { column: value }. */
export function readStats(file) {
  if (!existsSync(file)) return undefined;
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  if (lines.length < 2) return undefined;
  const head = lines[0].split(';');
  const row = lines[lines.length - 1].split(';');
  return Object.fromEntries(head.map((h, i) => [h, row[i]]));
}

/** SIPp's per-call response times (ms; its clock ticks in 4 ms steps on this kernel), by timer name. */
export function readRtt(file) {
  const out = {};
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const [, ms, name] = line.split(';');
    if (name === undefined) continue;
    (out[name.trim()] ??= []).push(Number(ms));
  }
  return out;
}

const num = (s, k) => Number(s?.[k] ?? NaN);

/**
 * One SIPp client run, bounded: `count` calls at `rate` per second (-rp 1000), killed after
 * `timeoutSecs` (-timeout, then our own SIGKILL). Returns counts, wall time, SIPp's CPU and rtt.
 */
export async function runClient(o) {
  const tag = `${o.name}-${Date.now()}`;
  const stat = path.join(o.dir, `${tag}.stat.csv`);
  const errors = path.join(o.dir, `${tag}.errors.log`);
  const args = [
    `${o.host}:${o.port}`,
    '-sf',
    path.join(SCENARIOS, o.scenario),
    '-inf',
    o.inf,
    '-i',
    o.localIp,
    '-p',
    String(o.localPort),
    '-r',
    String(o.rate),
    '-rp',
    '1000',
    '-m',
    String(o.count),
    '-l',
    String(o.limit ?? Math.max(100, Math.ceil(o.rate * ((o.holdMs ?? 0) / 1000 + 10)))),
    '-timeout',
    `${o.timeoutSecs}s`,
    '-timeout_error',
    '-nostdin',
    '-buff_size',
    String(4 << 20),
    '-trace_stat',
    '-stf',
    stat,
    '-fd',
    '1',
    '-trace_rtt',
    '-rtt_freq',
    '100',
    ...(o.authUri ? ['-auth_uri', o.authUri] : []),
    ...(o.holdMs !== undefined ? ['-d', String(o.holdMs)] : []),
    // Every unexpected message and timeout, for the failure breakdown (sipp-errors.mjs).
    '-trace_err',
    '-error_file',
    errors,
    ...(o.extra ?? []),
  ];
  const started = performance.now();
  const startedAt = Date.now() / 1000;
  const child = spawn('sipp', args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  // A signal to the runner stops this client too (it would go on sending to a dead target).
  const stop = () => child.kill('SIGKILL');
  o.stops?.add(stop);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  let cpu = 0;
  const poll = setInterval(() => (cpu = Math.max(cpu, processTicks(child.pid))), 200);
  const hard = setTimeout(() => child.kill('SIGKILL'), (o.timeoutSecs + 20) * 1000);
  const [code, signal] = await once(child, 'exit');
  o.stops?.delete(stop);
  clearInterval(poll);
  clearTimeout(hard);
  const wallSecs = (performance.now() - started) / 1000;
  const s = readStats(stat);
  const rttFile = readdirSync(o.dir).find((f) => f.endsWith(`_${child.pid}_rtt.csv`));
  const rtt = rttFile ? readRtt(path.join(o.dir, rttFile)) : {};
  if (rttFile && !o.keepFiles) rmSync(path.join(o.dir, rttFile), { force: true });
  const created = num(s, 'TotalCallCreated');
  const ok = num(s, 'SuccessfulCall(C)');
  const failed = num(s, 'FailedCall(C)');
  const errorRows = await readErrors(errors);
  if (!o.keepFiles && !o.debug) rmSync(errors, { force: true });
  return {
    code: code ?? signal,
    stderr: s === undefined ? stderr.trim() : '',
    rate: o.rate,
    count: o.count,
    created,
    ok,
    failed,
    // Calls SIPp never finished (killed by -timeout) count as failed too.
    unfinished: Number.isFinite(created) ? Math.max(0, o.count - ok - failed) : o.count,
    retransmissions: num(s, 'Retransmissions(C)'),
    timeouts: num(s, 'FailedTimeoutOnRecv(C)') + num(s, 'FailedMaxUDPRetrans(C)'),
    unexpected: num(s, 'FailedUnexpectedMessage(C)'),
    startedAt,
    errors: errorRows,
    wallSecs,
    sippCpuSecs: cpu / HZ,
    rtt,
  };
}

/** The UAS: answers calls until stopped (by pid) or until `timeoutSecs`. */
export function startUas(o) {
  const stat = path.join(o.dir, `uas-${Date.now()}.stat.csv`);
  const errors = stat.replace(/\.stat\.csv$/, '.errors.log');
  const args = [
    '-sf',
    path.join(SCENARIOS, 'uas.xml'),
    '-i',
    o.localIp,
    '-p',
    String(o.localPort),
    '-timeout',
    `${o.timeoutSecs}s`,
    '-nostdin',
    '-buff_size',
    String(4 << 20),
    '-trace_stat',
    '-stf',
    stat,
    '-fd',
    '1',
    '-trace_err',
    '-error_file',
    errors,
  ];
  const child = spawn('sipp', args, { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const exited = once(child, 'exit');
  return {
    pid: child.pid,
    stats: () => readStats(stat),
    failed: () => num(readStats(stat), 'FailedCall(C)') || 0,
    /** Failure classes of the UAS between two epoch times (its log spans every step). */
    errors: (since, until) => readErrors(errors, { since, until }),
    alive: () => child.exitCode === null && child.signalCode === null,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}
