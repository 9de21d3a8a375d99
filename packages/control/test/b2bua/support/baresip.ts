/**
 * A baresip user agent for end-to-end tests: config and account written into a temporary
 * directory, audio from a WAV file (aufile), what it hears written to a WAV file (sndfile), and
 * commands over ctrl_tcp (netstring JSON). Optionally run inside a network namespace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BARESIP_MODULES = '/usr/lib/baresip/modules';

export function baresipAvailable(): boolean {
  return existsSync(join(BARESIP_MODULES, 'aufile.so')) && existsSync('/usr/bin/baresip');
}

export interface BaresipOptions {
  /** Address baresip binds SIP and RTP to. */
  address: string;
  sipPort: number;
  ctrlPort: number;
  /** The account line (`<sip:user@domain>;auth_pass=...;outbound=...`). */
  account: string;
  /** WAV (8 kHz mono s16) played into calls. */
  source: string;
  rtpPorts: { min: number; max: number };
  /** Network namespace to run in (`ip netns exec`). */
  netns?: string;
}

export interface BaresipEvent {
  type: string;
  param?: string;
  id?: string;
}

export class Baresip extends EventEmitter<{ event: [BaresipEvent] }> {
  readonly dir: string;
  readonly options: BaresipOptions;
  readonly events: BaresipEvent[] = [];
  #proc: ChildProcess | undefined;
  #ctrl: Socket | undefined;
  #buffer = '';
  #log = '';
  #token = 0;

  constructor(options: BaresipOptions) {
    super();
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), 'sb-baresip-'));
  }

  /** baresip's console output so far (for failure messages). */
  get log(): string {
    return this.#log;
  }

  async start(): Promise<void> {
    const o = this.options;
    writeFileSync(
      join(this.dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen ${o.address}:${o.sipPort}`,
        `net_interface ${o.address}`,
        `audio_player aubridge,sink${o.ctrlPort}`,
        `audio_alert aubridge,alert${o.ctrlPort}`,
        `audio_source aufile,${o.source}`,
        `rtp_ports ${o.rtpPorts.min}-${o.rtpPorts.max}`,
        `module_path ${BARESIP_MODULES}`,
        'module g711.so',
        'module aufile.so',
        'module aubridge.so',
        'module sndfile.so',
        'module_tmp account.so',
        'module_app menu.so',
        'module_app ctrl_tcp.so',
        `ctrl_tcp_listen ${o.address}:${o.ctrlPort}`,
        `snd_path ${this.dir}`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'accounts'), `${o.account}\n`);
    const argv = ['-f', this.dir];
    const proc =
      o.netns === undefined
        ? spawn('baresip', argv, { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('ip', ['netns', 'exec', o.netns, 'baresip', ...argv], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
    this.#proc = proc;
    proc.stdout?.on('data', (d: Buffer) => (this.#log += d.toString('utf8')));
    proc.stderr?.on('data', (d: Buffer) => (this.#log += d.toString('utf8')));
    await this.#until(() => this.#log.includes('baresip is ready'), 10_000, 'start');
    await this.#connect();
  }

  /** Sends a ctrl_tcp command (e.g. `dial`, `hangup`). */
  command(command: string, params = ''): void {
    const body = JSON.stringify({ command, params, token: String(++this.#token) });
    this.#ctrl?.write(`${Buffer.byteLength(body)}:${body},`);
  }

  dial(uri: string): void {
    this.command('dial', uri);
  }

  /** Resolves with the first event of `type` (already seen or to come). */
  waitEvent(type: string, deadlineMs = 15_000): Promise<BaresipEvent> {
    const seen = this.events.find((e) => e.type === type);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', on);
        reject(new Error(`baresip: no ${type} event\n${this.#log.slice(-2000)}`));
      }, deadlineMs);
      const on = (e: BaresipEvent): void => {
        if (e.type !== type) return;
        clearTimeout(timer);
        this.off('event', on);
        resolve(e);
      };
      this.on('event', on);
    });
  }

  /** Resolves once the console shows `text`. */
  waitLog(text: string | RegExp, deadlineMs = 15_000): Promise<void> {
    return this.#until(
      () => (typeof text === 'string' ? this.#log.includes(text) : text.test(this.#log)),
      deadlineMs,
      String(text),
    );
  }

  /** The registrar accepted our binding (console line; ctrl_tcp may connect after the event). */
  registered(deadlineMs = 15_000): Promise<void> {
    return this.waitLog(/\{0\/UDP\/v4\} 200 OK .*binding/, deadlineMs);
  }

  /** The WAV file of the audio this agent received and decoded (sndfile's `-dec.wav`). */
  decodedWav(): string | undefined {
    const f = readdirSync(this.dir).find((n) => n.startsWith('dump-') && n.endsWith('-dec.wav'));
    return f === undefined ? undefined : join(this.dir, f);
  }

  /** Ends the process (its recordings are complete on disk afterwards); the files stay. */
  async stop(): Promise<void> {
    this.#ctrl?.destroy();
    const proc = this.#proc;
    if (proc !== undefined && proc.exitCode === null && proc.pid !== undefined) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async #connect(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      try {
        this.#ctrl = await new Promise<Socket>((resolve, reject) => {
          const s = connect(this.options.ctrlPort, this.options.address);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        });
        this.#ctrl.on('data', (d: Buffer) => this.#read(d.toString('utf8')));
        this.#ctrl.on('error', () => undefined);
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`baresip: ctrl_tcp not reachable\n${this.#log.slice(-2000)}`);
  }

  /** Netstrings: `<len>:<json>,`. */
  #read(chunk: string): void {
    this.#buffer += chunk;
    for (;;) {
      const colon = this.#buffer.indexOf(':');
      if (colon < 0) return;
      const len = Number(this.#buffer.slice(0, colon));
      if (!Number.isInteger(len) || this.#buffer.length < colon + 1 + len + 1) return;
      const body = this.#buffer.slice(colon + 1, colon + 1 + len);
      this.#buffer = this.#buffer.slice(colon + 1 + len + 1);
      try {
        const msg = JSON.parse(body) as {
          event?: boolean;
          type?: string;
          param?: string;
          id?: string;
        };
        if (msg.event === true && typeof msg.type === 'string') {
          const e: BaresipEvent = { type: msg.type };
          if (msg.param !== undefined) e.param = msg.param;
          if (msg.id !== undefined) e.id = msg.id;
          this.events.push(e);
          this.emit('event', e);
        }
      } catch {
        // not JSON: ignored
      }
    }
  }

  async #until(check: () => boolean, deadlineMs: number, what: string): Promise<void> {
    const start = Date.now();
    while (!check()) {
      if (this.#proc?.exitCode !== null && this.#proc?.exitCode !== undefined)
        throw new Error(`baresip exited (${what})\n${this.#log.slice(-2000)}`);
      if (Date.now() - start > deadlineMs)
        throw new Error(`baresip: timed out waiting for ${what}\n${this.#log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** A port nobody listens on right now (UDP and TCP), for baresip's config. */
export async function freePort(address: string): Promise<number> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  for (let i = 0; i < 20; i++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, address, () => {
        const a = srv.address();
        const p = typeof a === 'object' && a !== null ? a.port : 0;
        srv.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
      s.once('error', () => resolve(false));
      s.bind(port, address, () => s.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free port');
}
