/**
 * `switchboard start --workers N`: the primary runs the store, the brain (per-account live state
 * stays single here) and the HTTP API, and forks N SIP workers that share the SIP ports. Start-up
 * in phases: every worker listens on its mesh socket, then all connect to each other, then all
 * open their SIP listening points, so no worker forwards to a peer that is not there yet.
 */
import cluster, { type Worker } from 'node:cluster';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';
import {
  startSwitchboard,
  type RunningSwitchboard,
  type StartOptions,
} from '../server/switchboard-server.js';
import { serveBrain } from './brain-ipc.js';
import {
  CLUSTER_INIT_ENV,
  isMessage,
  type WorkerInit,
  type PrimaryToWorker,
  type WorkerInspection,
  type WorkerToPrimary,
} from './cluster-messages.js';

export interface ClusterOptions extends StartOptions {
  /** Default true: workers share the configured SIP ports. False: each binds ephemeral ports of its own (tests). */
  sharedPorts?: boolean;
  /** Bounds each start-up phase, ms (default 30000). */
  startTimeoutMs?: number;
}

export interface RunningCluster {
  /** The primary's control plane (store, brain, HTTP); its own SIP edge is off. */
  readonly server: RunningSwitchboard;
  readonly workers: number;
  /** Where worker `i` listens for SIP. */
  listeningPoints(worker: number): readonly ListeningPoint[];
  inspect(worker: number): Promise<WorkerInspection>;
  stop(): Promise<void>;
}

function workerEntry(): string {
  const self = fileURLToPath(import.meta.url);
  return join(self, '..', `cluster-worker-main${self.endsWith('.ts') ? '.ts' : '.js'}`);
}

function waitAll(
  workers: readonly Worker[],
  t: WorkerToPrimary['t'],
  timeoutMs: number,
): Promise<WorkerToPrimary[]> {
  return Promise.all(
    workers.map(
      (w, i) =>
        new Promise<WorkerToPrimary>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`SIP worker ${i}: no '${t}' within ${timeoutMs} ms`)),
            timeoutMs,
          );
          const done = (): void => {
            clearTimeout(timer);
            w.off('message', on);
            w.off('exit', onExit);
          };
          const on = (m: unknown): void => {
            if (isMessage<{ t: 'failed'; error: string }>(m, 'failed')) {
              done();
              reject(new Error(`SIP worker ${i} failed: ${m.error}`));
            } else if (isMessage<WorkerToPrimary>(m, t)) {
              done();
              resolve(m);
            }
          };
          const onExit = (code: number): void => {
            done();
            reject(new Error(`SIP worker ${i} exited (${code}) before '${t}'`));
          };
          w.on('message', on);
          w.on('exit', onExit);
        }),
    ),
  );
}

/** Starts the control plane here and `config.workers` SIP workers. */
export async function runSwitchboardCluster(
  config: SwitchboardConfig,
  options: ClusterOptions = {},
): Promise<RunningCluster> {
  const n = Math.max(1, config.workers);
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  const server = await startSwitchboard(
    { ...config, sip: { ...config.sip, enabled: false } },
    options,
  );
  const meshDir = mkdtempSync(join(tmpdir(), 'sb-mesh-'));
  cluster.setupPrimary({ exec: workerEntry() });
  const workers: Worker[] = [];
  const post = (w: Worker, m: PrimaryToWorker): void => void w.send(m);
  const cleanup = async (): Promise<void> => {
    for (const w of workers) if (!w.isDead()) w.process.kill();
    await server.stop();
    rmSync(meshDir, { recursive: true, force: true });
  };
  const points: ListeningPoint[][] = [];
  try {
    for (let i = 0; i < n; i++) {
      const init: WorkerInit = {
        t: 'init',
        index: i,
        workers: n,
        meshDir,
        config,
        sharedPorts: options.sharedPorts ?? true,
      };
      // the init travels in the environment: a message could arrive before the worker listens
      const w = cluster.fork({ [CLUSTER_INIT_ENV]: JSON.stringify(init) });
      workers.push(w);
      serveBrain(w, server.brain);
    }
    await waitAll(workers, 'mesh-listening', timeoutMs);
    const ready = waitAll(workers, 'mesh-ready', timeoutMs);
    for (const w of workers) post(w, { t: 'mesh-connect' });
    await ready;
    const started = waitAll(workers, 'started', timeoutMs);
    for (const w of workers) post(w, { t: 'start' });
    for (const m of await started) points.push(m.t === 'started' ? m.points : []);
  } catch (err) {
    await cleanup();
    throw err;
  }
  let nextId = 1;
  return {
    server,
    workers: n,
    listeningPoints: (i) => points[i] ?? [],
    inspect(i) {
      const w = workers[i];
      if (w === undefined) return Promise.reject(new RangeError(`no worker ${i}`));
      const id = nextId++;
      return new Promise((resolve) => {
        const on = (m: unknown): void => {
          if (
            !isMessage<{ t: 'inspect-res'; id: number; value: WorkerInspection }>(m, 'inspect-res')
          )
            return;
          if (m.id !== id) return;
          w.off('message', on);
          resolve(m.value);
        };
        w.on('message', on);
        post(w, { t: 'inspect', id });
      });
    },
    async stop() {
      const alive = workers.filter((w) => !w.isDead());
      const stopped = waitAll(alive, 'stopped', timeoutMs).catch(() => undefined);
      for (const w of alive) post(w, { t: 'stop' });
      await stopped;
      await cleanup();
    },
  };
}
