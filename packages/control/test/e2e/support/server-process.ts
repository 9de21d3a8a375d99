/** `switchboard start` as a child process (the CLI through tsx) and redis-server, both killed by PID. */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

const CONTROL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const MAIN = join(CONTROL, 'src', 'cli', 'main.ts');

export interface ChildServer {
  pid: number;
  /** Everything it printed so far. */
  output(): string;
  /** SIP listening ports by protocol, from the "SIP listening on ..." line. */
  sipPorts: Record<string, number>;
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(
      () => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'),
      5000,
    );
    child.once('exit', () => (clearTimeout(hard), resolve()));
    process.kill(child.pid as number, 'SIGTERM');
  });
}

/** Waits until `ready(output)` holds; rejects when the process exits first or after `limitMs`. */
function waitFor(
  child: ChildProcess,
  read: () => string,
  ready: (s: string) => boolean,
  limitMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`not ready in ${limitMs} ms:\n${read()}`)),
      limitMs,
    );
    const check = (): void => {
      if (!ready(read())) return;
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)} before it was ready:\n${read()}`));
    });
  });
}

export async function startServerProcess(t: Test, flags: string[]): Promise<ChildServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start', ...flags], {
    cwd: CONTROL,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => kill(child));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    child,
    () => out,
    (s) => /SIP listening on .*\n/.test(s),
    20_000,
  );
  const line = /SIP listening on ([^;\n]*)/.exec(out)?.[1] ?? '';
  const sipPorts: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+) [^\s,]*:(\d+)/g)) sipPorts[m[1] as string] ??= Number(m[2]);
  return { pid: child.pid ?? -1, output: () => out, sipPorts };
}

/** redis-server on a loopback port, without persistence. */
export async function startRedis(t: Test, port: number): Promise<void> {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  t.teardown(() => kill(child));
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    child,
    () => out,
    (s) => /Ready to accept connections/i.test(s),
    10_000,
  );
}
