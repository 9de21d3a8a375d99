/**
 * A throwaway redis-server on 127.0.0.1 with an ephemeral port, no persistence, in a temp dir;
 * stopped by PID. `findRedisServer()` is undefined when the binary is absent (tests then skip).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

export function findRedisServer(): string | undefined {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? 'redis-server' : undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}): ${out}`));
    });
  });
}

async function startOnce(binary: string): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const child = spawn(binary, [...args, '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  try {
    if (pid === undefined) throw new Error('redis-server did not spawn');
    await waitReady(child);
  } catch (err) {
    if (pid !== undefined && child.exitCode === null) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that ends without its teardown still takes its server along.
  const onExit = (): void => {
    if (child.exitCode === null) process.kill(pid, 'SIGKILL');
  };
  process.once('exit', onExit);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    async stop() {
      process.off('exit', onExit);
      if (child.exitCode === null) process.kill(pid, 'SIGKILL');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts redis-server (retrying once if the chosen port was taken meanwhile). */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  try {
    return await startOnce(binary);
  } catch {
    return startOnce(binary);
  }
}
