// Two "hosts" A and B, each a network namespace joined to this (root) namespace by a veth pair
// with its own /30 from the benchmarking range 198.18.0.0/15 (RFC 2544). The relay runs here.
// Tags of one file must differ in their first letter or length.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Host {
  readonly ns: string;
  /** The root-side interface name. */
  readonly link: string;
  /** Our (relay) address on the link. */
  readonly local: string;
  /** The host's address inside its namespace. */
  readonly remote: string;
}

export interface Hosts {
  readonly a: Host;
  readonly b: Host;
  destroy(): void;
}

export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function v4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function removeNs(ns: string): void {
  try {
    ip('netns', 'del', ns);
  } catch {
    // already gone
  }
}

/** Creates both hosts; names carry the PID and `tag`, so parallel test files never collide. */
export function createHosts(tag: string): Hosts {
  // 198.19.128.0/17: apart from the crate's own namespace tests (198.18.0.0/16, 198.19.0.0/17).
  const slot = (process.pid * 7 + tag.charCodeAt(0) + tag.length * 131) % 4096;
  const base = ((198 << 24) | (19 << 16) | (128 << 8)) >>> 0;
  const make = (side: 'a' | 'b', i: number): Host => ({
    ns: `sbk-${side}-${process.pid}-${tag}`,
    link: `sbk${side}${slot}`,
    local: v4(base + slot * 8 + i * 4 + 1),
    remote: v4(base + slot * 8 + i * 4 + 2),
  });
  const hosts = [make('a', 0), make('b', 1)] as const;
  const destroy = (): void => hosts.forEach((h) => removeNs(h.ns));
  destroy();
  try {
    for (const h of hosts) {
      ip('netns', 'add', h.ns);
      ip('link', 'add', h.link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns);
      ip('addr', 'add', `${h.local}/30`, 'dev', h.link);
      ip('link', 'set', h.link, 'up');
      ip('-n', h.ns, 'addr', 'add', `${h.remote}/30`, 'dev', 'eth0');
      ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
      ip('-n', h.ns, 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    destroy();
    throw e;
  }
  return { a: hosts[0], b: hosts[1], destroy };
}

export interface PeerStats {
  received: number;
  sources: Record<string, number>;
}

/** A UDP endpoint living inside a host's namespace (a child process), driven by JSON lines. */
export class Peer {
  readonly #child: ChildProcessByStdio<Writable, Readable, null>;
  readonly #waiters: ((v: Record<string, unknown>) => void)[] = [];
  readonly #lines: Record<string, unknown>[] = [];
  address = '';
  port = 0;

  private constructor(child: ChildProcessByStdio<Writable, Readable, null>) {
    this.#child = child;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const v = JSON.parse(line) as Record<string, unknown>;
      const w = this.#waiters.shift();
      if (w) w(v);
      else this.#lines.push(v);
    });
  }

  static async start(host: Host): Promise<Peer> {
    const script = fileURLToPath(new URL('./udp-peer.ts', import.meta.url));
    const child = spawn(
      'ip',
      ['netns', 'exec', host.ns, process.execPath, ...process.execArgv, script, host.remote],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const peer = new Peer(child);
    const hello = await peer.#next();
    peer.address = String(hello['address']);
    peer.port = Number(hello['port']);
    return peer;
  }

  get endpoint(): string {
    return `${this.address}:${this.port}`;
  }

  #next(timeoutMs = 15000): Promise<Record<string, unknown>> {
    const queued = this.#lines.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('udp peer did not answer')), timeoutMs);
      this.#waiters.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
    });
  }

  async #call(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    this.#child.stdin.write(`${JSON.stringify(msg)}\n`);
    return this.#next();
  }

  /** Sends `count` 172-byte RTP packets to `host:port`, 1 ms apart. */
  async send(host: string, port: number, count: number): Promise<void> {
    await this.#call({ op: 'send', host, port, count });
  }

  async stats(): Promise<PeerStats> {
    const r = await this.#call({ op: 'stats' });
    return { received: Number(r['received']), sources: r['sources'] as Record<string, number> };
  }

  close(): void {
    this.#child.stdin.end();
    this.#child.kill('SIGTERM');
  }
}

/** Polls `check` until it returns true or the bounded number of tries runs out. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  tries = 60,
  everyMs = 50,
): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
