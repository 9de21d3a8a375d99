/**
 * The SIP worker processes of `switchboard start --workers N`, seen from the primary: forks them
 * and walks them through start-up in phases (every worker listens on its mesh socket, then all
 * connect to each other, then all open their SIP listening points, so no worker forwards to a
 * peer that is not there yet), asks them questions (inspect, metrics snapshot, drain), and puts a
 * new worker in the place of one that exited unexpectedly.
 */
import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';
import type { RelayHealth } from '../server/edge-service.js';
import {
  CLUSTER_INIT_ENV,
  isMessage,
  type PrimaryToWorker,
  type WorkerInit,
  type WorkerReplies,
  type WorkerRequest,
  type WorkerToPrimary,
} from './cluster-messages.js';

export interface WorkerPoolOptions {
  config: SwitchboardConfig;
  meshDir: string;
  sharedPorts: boolean;
  /** Bounds each start-up phase and each question, ms. */
  timeoutMs: number;
  log: Logger;
  /** Wires a freshly forked worker to the brain over IPC. */
  serve: (worker: Worker) => void;
  /** Restarts allowed per worker within `restartWindowMs` before it is left down (default 5). */
  maxRestarts?: number;
  restartWindowMs?: number;
}

interface Slot {
  worker: Worker;
  up: boolean;
  points: ListeningPoint[];
  relay: RelayHealth;
  calls: number;
  restarts: number[];
}

function workerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `cluster-worker-main${self.endsWith('.ts') ? '.ts' : '.js'}`);
}

/** Resolves with the worker's next message of type `t`; rejects on timeout, failure or exit. */
function next<K extends WorkerToPrimary['t']>(
  w: Worker,
  t: K,
  timeoutMs: number,
  label: string,
): Promise<Extract<WorkerToPrimary, { t: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${label}: no '${t}' within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      w.off('message', on);
      w.off('exit', onExit);
    };
    const on = (m: unknown): void => {
      if (isMessage<{ t: 'failed'; error: string }>(m, 'failed')) {
        done();
        reject(new Error(`${label} failed: ${m.error}`));
      } else if (isMessage<{ t: string }>(m, t)) {
        done();
        resolve(m as Extract<WorkerToPrimary, { t: K }>);
      }
    };
    const onExit = (code: number): void => {
      done();
      reject(new Error(`${label} exited (${code}) before '${t}'`));
    };
    w.on('message', on);
    w.on('exit', onExit);
  });
}

export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  #stopping = false;
  #nextId = 1;
  #restarted = 0;

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
  }

  get size(): number {
    return Math.max(1, this.#o.config.workers);
  }

  /** Workers up now (started and not exited). */
  get live(): number {
    return this.#slots.filter((s) => s.up).length;
  }

  /** Workers started in the place of one that exited. */
  get restarts(): number {
    return this.#restarted;
  }

  listeningPoints(i: number): readonly ListeningPoint[] {
    return this.#slots[i]?.points ?? [];
  }

  /** Calls held by all workers, as they last reported. */
  get calls(): number {
    return this.#slots.reduce((n, s) => n + (s.up ? s.calls : 0), 0);
  }

  /** `down` while any worker is down; the relay mode of the first worker. */
  health(): { sip: 'ok' | 'down'; relay: RelayHealth } {
    const all = this.#slots.length === this.size && this.#slots.every((s) => s.up);
    const relays = this.#slots.map((s) => (s.up ? s.relay : 'down'));
    const relay = relays.find((r) => r === 'down') ?? relays[0] ?? 'down';
    return { sip: all ? 'ok' : 'down', relay };
  }

  async start(): Promise<void> {
    cluster.setupPrimary({ exec: workerEntry() });
    const t = this.#o.timeoutMs;
    const ws: Worker[] = [];
    for (let i = 0; i < this.size; i++) ws.push(this.#fork(i, false));
    await Promise.all(ws.map((w, i) => next(w, 'mesh-listening', t, `SIP worker ${i}`)));
    const ready = Promise.all(ws.map((w, i) => next(w, 'mesh-ready', t, `SIP worker ${i}`)));
    for (const w of ws) this.#post(w, { t: 'mesh-connect' });
    await ready;
    const started = Promise.all(ws.map((w, i) => next(w, 'started', t, `SIP worker ${i}`)));
    for (const w of ws) this.#post(w, { t: 'start' });
    (await started).forEach((m, i) => this.#up(i, m));
  }

  /** Asks worker `i`; undefined when it is down or does not answer in time. */
  ask<K extends WorkerRequest['t']>(
    i: number,
    request: { t: K } & Omit<Extract<WorkerRequest, { t: K }>, 'id' | 't'>,
    timeoutMs = this.#o.timeoutMs,
  ): Promise<WorkerReplies[K] | undefined> {
    const slot = this.#slots[i];
    if (slot === undefined || !slot.up) return Promise.resolve(undefined);
    const w = slot.worker;
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const done = (v: WorkerReplies[K] | undefined): void => {
        clearTimeout(timer);
        w.off('message', on);
        w.off('exit', gone);
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const gone = (): void => done(undefined);
      const on = (m: unknown): void => {
        if (isMessage<{ t: 'reply'; id: number; value: unknown }>(m, 'reply') && m.id === id)
          done(m.value as WorkerReplies[K]);
      };
      w.on('message', on);
      w.on('exit', gone);
      this.#post(w, { ...request, id } as PrimaryToWorker);
    });
  }

  /** Asks every live worker; the answers in worker order (down or silent ones left out). */
  async askAll<K extends WorkerRequest['t']>(
    request: { t: K } & Omit<Extract<WorkerRequest, { t: K }>, 'id' | 't'>,
    timeoutMs?: number,
  ): Promise<WorkerReplies[K][]> {
    const all = await Promise.all(this.#slots.map((_, i) => this.ask(i, request, timeoutMs)));
    const out: WorkerReplies[K][] = [];
    for (const v of all) if (v !== undefined) out.push(v);
    return out;
  }

  /** Every worker refuses new dialogs and waits for its calls; true when all ended in time. */
  async drain(timeoutMs: number): Promise<boolean> {
    const answers = await Promise.all(
      this.#slots.map((_, i) => this.ask(i, { t: 'drain', timeoutMs }, timeoutMs + 5000)),
    );
    return answers.every((a) => a !== false);
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    const alive = this.#slots.filter((s) => !s.worker.isDead()).map((s) => s.worker);
    const stopped = Promise.all(
      alive.map((w) => next(w, 'stopped', this.#o.timeoutMs, 'SIP worker').catch(() => undefined)),
    );
    for (const w of alive) this.#post(w, { t: 'stop' });
    await stopped;
    this.kill();
  }

  /** Ends every worker process at once (start-up failed, or after stop). */
  kill(): void {
    this.#stopping = true;
    for (const s of this.#slots) if (!s.worker.isDead()) s.worker.process.kill();
  }

  #fork(i: number, restarted: boolean): Worker {
    const { config, meshDir, sharedPorts } = this.#o;
    const init: WorkerInit = {
      t: 'init',
      index: i,
      workers: this.size,
      meshDir,
      config,
      sharedPorts,
      ...(restarted ? { restarted } : {}),
    };
    // the init travels in the environment: a message could arrive before the worker listens
    const w = cluster.fork({ [CLUSTER_INIT_ENV]: JSON.stringify(init) });
    const prev = this.#slots[i];
    this.#slots[i] = {
      worker: w,
      up: false,
      points: prev?.points ?? [],
      relay: 'down',
      calls: 0,
      restarts: prev?.restarts ?? [],
    };
    this.#o.serve(w);
    w.on('message', (m) => {
      if (isMessage<{ t: 'calls'; calls: number }>(m, 'calls')) {
        const slot = this.#slots[i];
        if (slot?.worker === w) slot.calls = m.calls;
      }
    });
    w.on('exit', (code, signal) => this.#exited(i, w, code, signal));
    return w;
  }

  #up(i: number, m: Extract<WorkerToPrimary, { t: 'started' }>): void {
    const slot = this.#slots[i];
    if (slot === undefined) return;
    slot.up = true;
    slot.points = m.points;
    slot.relay = m.relay;
  }

  #exited(i: number, w: Worker, code: number, signal: string | null): void {
    const slot = this.#slots[i];
    if (slot?.worker !== w) return;
    const wasUp = slot.up;
    slot.up = false;
    if (this.#stopping || !wasUp) return;
    const now = Date.now();
    const window = this.#o.restartWindowMs ?? 60_000;
    slot.restarts = slot.restarts.filter((at) => now - at < window);
    if (slot.restarts.length >= (this.#o.maxRestarts ?? 5)) {
      this.#o.log.error(
        { worker: i, code, signal, restarts: slot.restarts.length },
        'SIP worker keeps exiting: left down',
      );
      return;
    }
    slot.restarts.push(now);
    this.#o.log.error({ worker: i, code, signal }, 'SIP worker exited: starting a new one');
    this.#restart(i).catch((err: unknown) =>
      this.#o.log.error({ err, worker: i }, 'SIP worker restart failed'),
    );
  }

  /** The phases of start() for one worker, with the live peers connecting back to it. */
  async #restart(i: number): Promise<void> {
    const t = this.#o.timeoutMs;
    const label = `SIP worker ${i} (restarted)`;
    const w = this.#fork(i, true);
    try {
      await next(w, 'mesh-listening', t, label);
      const ready = next(w, 'mesh-ready', t, label);
      this.#post(w, { t: 'mesh-connect' });
      await ready;
      const peers = this.#slots.map((_, p) => p).filter((p) => p !== i);
      await Promise.all(peers.map((p) => this.ask(p, { t: 'mesh-peer', index: i })));
      const started = next(w, 'started', t, label);
      this.#post(w, { t: 'start' });
      this.#up(i, await started);
      this.#restarted++;
      this.#o.log.info({ worker: i, pid: w.process.pid }, 'SIP worker restarted');
    } catch (err) {
      if (!w.isDead()) w.process.kill();
      throw err;
    }
  }

  #post(w: Worker, m: PrimaryToWorker): void {
    if (w.isConnected()) w.send(m);
  }
}
