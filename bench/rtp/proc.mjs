// Child processes with line-oriented JSON on stdout, and CPU counters from /proc.
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export const HZ = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

const live = new Set();

/** Kills every child still running (by pid, SIGKILL); for signal handlers. */
export function killAll() {
  for (const c of live) c.kill('SIGKILL');
}

/** A child whose stdout lines are JSON; `next()` resolves with the next parsed line. */
export class JsonChild {
  #lines = [];
  #waiters = [];
  #exited;
  child;

  constructor(cmd, args, opts = {}) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', opts.stderr ?? 'inherit'], ...opts });
    live.add(this.child);
    this.child.on('exit', () => live.delete(this.child));
    this.child.stdin.on('error', () => {}); // the child may exit before reading
    const rl = createInterface({ input: this.child.stdout });
    rl.on('line', (line) => {
      let v;
      try {
        v = JSON.parse(line);
      } catch {
        return; // not a result line
      }
      const w = this.#waiters.shift();
      if (w) w.resolve(v);
      else this.#lines.push(v);
    });
    this.#exited = new Promise((resolve) =>
      this.child.on('exit', (code, sig) => resolve({ code, sig })),
    );
    this.#exited.then(({ code, sig }) => {
      for (const w of this.#waiters.splice(0))
        w.reject(new Error(`${cmd} exited (${code ?? sig})`));
    });
  }

  get pid() {
    return this.child.pid;
  }

  next(timeoutMs = 30000) {
    if (this.#lines.length) return Promise.resolve(this.#lines.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for output')), timeoutMs);
      this.#waiters.push({
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  }

  send(line) {
    this.child.stdin.write(`${line}\n`);
  }

  async request(line, timeoutMs) {
    this.send(line);
    return this.next(timeoutMs);
  }

  exited() {
    return this.#exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; only this child, by pid. */
  async stop(graceMs = 3000) {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exited;
    clearTimeout(t);
  }
}

/** Busy and total jiffies over all CPUs (busy = everything but idle and iowait). */
export function systemTicks() {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: f.slice(0, 8).reduce((a, b) => a + b, 0),
    softirq: irq + softirq,
  };
}

/** utime + stime of a process (all its threads), in jiffies; 0 when it is gone. */
export function processTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0;
  }
}

/** CPU jiffies of every ksoftirqd thread (softirq work deferred out of process context). */
export function ksoftirqdTicks() {
  let sum = 0;
  let out = '';
  try {
    out = execFileSync('pgrep', ['-x', 'ksoftirqd/[0-9]+'], { encoding: 'utf8' }).trim();
  } catch {
    return 0;
  }
  for (const pid of out.split('\n').filter(Boolean)) sum += processTicks(pid);
  return sum;
}

export function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
