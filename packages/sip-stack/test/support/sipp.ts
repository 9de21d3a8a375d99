/**
 * Spawns SIPp (Debian package sip-tester) for interop tests: one bounded run per call (-m,
 * -timeout), statistics read from its final screen file, and only the processes started here are
 * ever killed, by their PID.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';

/** The sipp command when it runs here, else undefined. */
export function findSipp(): string | undefined {
  const r = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5000 });
  return r.error === undefined && /SIPp/.test(`${r.stdout}${r.stderr}`) ? 'sipp' : undefined;
}

export interface SippOptions {
  /** Scenario file. */
  scenario: string;
  /** Directory for the screen file. */
  workDir: string;
  /** Name of this run (screen file name). */
  name: string;
  localPort: number;
  /** RTP echo port SIPp binds; distinct per instance. */
  mediaPort: number;
  /** UAC only: "host:port" of the proxy. */
  remote?: string;
  transport: 'u1' | 't1';
  calls: number;
  /** Calls per second (UAC). */
  rate?: number;
  /** Percentage of messages SIPp drops (UDP retransmission tests). */
  lost?: number;
  timeoutSeconds?: number;
}

export interface SippResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Cumulative counters from the final statistics screen. */
  successful: number | undefined;
  failed: number | undefined;
  /** The last part of what SIPp printed (for failure messages). */
  output: string;
  screen: string;
}

export interface SippRun {
  pid: number | undefined;
  done: Promise<SippResult>;
  /** Stops this run (SIGTERM to its PID) if it is still running. */
  kill(): void;
}

const OUTPUT_TAIL = 8192;

function argsFor(o: SippOptions): string[] {
  const args: string[] = [];
  if (o.remote !== undefined) args.push(o.remote, '-s', 'service');
  args.push(
    '-sf',
    o.scenario,
    '-i',
    '127.0.0.1',
    '-p',
    String(o.localPort),
    '-mp',
    String(o.mediaPort),
  );
  args.push('-t', o.transport, '-m', String(o.calls), '-nostdin');
  args.push('-timeout', `${o.timeoutSeconds ?? 60}s`, '-timeout_error');
  args.push('-trace_screen', '-screen_file', join(o.workDir, `${o.name}.screen`));
  if (o.rate !== undefined) args.push('-r', String(o.rate), '-l', String(Math.max(o.calls, 1)));
  if (o.lost !== undefined) args.push('-lost', String(o.lost));
  return args;
}

function counter(screen: string, label: string): number | undefined {
  const m = new RegExp(`${label}\\s*\\|\\s*\\d+\\s*\\|\\s*(\\d+)`).exec(screen);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function runSipp(options: SippOptions): SippRun {
  const child: ChildProcess = spawn('sipp', argsFor(options), {
    cwd: options.workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer): void => {
    output = (output + b.toString('latin1')).slice(-OUTPUT_TAIL);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const done = new Promise<SippResult>((resolve) => {
    child.on('close', (code, signal) => {
      void readFile(join(options.workDir, `${options.name}.screen`), 'latin1')
        .catch(() => '')
        .then((screen) =>
          resolve({
            code,
            signal,
            successful: counter(screen, 'Successful call'),
            failed: counter(screen, 'Failed call'),
            output,
            screen,
          }),
        );
    });
  });
  return {
    pid: child.pid,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined)
        process.kill(child.pid, 'SIGTERM');
    },
  };
}

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => (ok ? udp.close(() => resolve()) : resolve()));
    if (ok) return port;
  }
  throw new Error('no free port found');
}

async function udpFree(port: number): Promise<boolean> {
  const udp = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false));
    udp.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((resolve) => (ok ? udp.close(() => resolve()) : resolve()));
  return ok;
}

/** SIP and media ports for a UAC and a UAS run, none overlapping. */
export interface SippPorts {
  uas: number;
  uac: number;
  /** First of four UDP ports SIPp binds from -mp (audio and video RTP/RTCP). */
  uasMedia: number;
  uacMedia: number;
}

const MEDIA_SPAN = 4;

export async function allocateSippPorts(): Promise<SippPorts> {
  const taken = new Set<number>();
  const pick = async (span: number): Promise<number> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const base = await freePort();
      const range = Array.from({ length: span }, (_, i) => base + i);
      if (range.some((p) => p > 65535 || taken.has(p))) continue;
      if (!(await Promise.all(range.slice(1).map(udpFree))).every(Boolean)) continue;
      for (const p of range) taken.add(p);
      return base;
    }
    throw new Error('no free port range found');
  };
  const uasMedia = await pick(MEDIA_SPAN);
  const uacMedia = await pick(MEDIA_SPAN);
  return { uasMedia, uacMedia, uas: await pick(1), uac: await pick(1) };
}

/** Waits (bounded) until something is bound to the port: UDP bind fails, or TCP connect works. */
export async function waitForPort(
  protocol: 'udp' | 'tcp',
  port: number,
  deadlineMs = 5000,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await portTaken(protocol, port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${protocol} port ${port}`);
}

function portTaken(protocol: 'udp' | 'tcp', port: number): Promise<boolean> {
  if (protocol === 'tcp') {
    return new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }
  const udp = createSocket('udp4');
  return new Promise((resolve) => {
    udp.once('error', () => {
      udp.close();
      resolve(true);
    });
    udp.bind(port, '127.0.0.1', () => udp.close(() => resolve(false)));
  });
}
