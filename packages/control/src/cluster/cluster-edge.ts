/**
 * The SIP edge of the cluster primary: the same EdgeService face as the in-process edge, over
 * the worker processes. `/metrics` sums the workers' snapshots, `/health` is down while a worker
 * is, drain asks every worker, and SIGTERM goes through the node's usual graceful stop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { Brain } from '../brain/brain.js';
import type { SwitchboardConfig } from '../cli/config.js';
import {
  EdgeCounters,
  MetricsText,
  formatEdgeMetrics,
  type EdgeSnapshot,
  type RelaySnapshot,
} from '../edge/edge-metrics.js';
import type { EdgeService } from '../server/edge-service.js';
import type { SecretStore } from '../store/secret-store.js';
import { serveBrain } from './brain-ipc.js';
import type { WorkerInspection } from './cluster-messages.js';
import { WorkerPool } from './worker-pool.js';

export interface ClusterEdgeOptions {
  /** Default true: workers share the configured SIP ports. False: each binds ephemeral ports (tests). */
  sharedPorts?: boolean;
  /** Bounds each start-up phase and each question to a worker, ms (default 30000). */
  startTimeoutMs?: number;
}

export interface ClusterEdge extends EdgeService {
  readonly workers: number;
  listeningPoints(worker: number): readonly ListeningPoint[];
  inspect(worker: number): Promise<WorkerInspection>;
}

type Plain = Record<string, unknown>;

/** Adds every number of `from` into `into`, field by field, recursively (arrays by index). */
function addInto(into: Plain, from: Plain): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k];
    if (typeof v === 'number') into[k] = (typeof cur === 'number' ? cur : 0) + v;
    else if (typeof v === 'object' && v !== null && typeof cur === 'object' && cur !== null)
      addInto(cur as Plain, v as Plain);
    else if (cur === undefined) into[k] = structuredClone(v);
  }
}

/**
 * One snapshot for the node: counters, transactions, calls and relay ports add up; every
 * worker sees all registrations (replicated, or the same Redis), so that is the largest count.
 */
export function sumSnapshots(all: readonly EdgeSnapshot[]): EdgeSnapshot | undefined {
  const first = all[0];
  if (first === undefined) return undefined;
  const sum = structuredClone(first) as unknown as Plain;
  for (const s of all.slice(1)) addInto(sum, s as unknown as Plain);
  const regs = all.map((s) => s.registrations).filter((n): n is number => n !== undefined);
  const relays = all.map((s) => s.relay).filter((r): r is RelaySnapshot => r !== undefined);
  const relay = relays[0];
  return {
    ...(sum as unknown as EdgeSnapshot),
    counters: Object.assign(new EdgeCounters(), sum['counters']),
    registrations: regs.length === all.length ? Math.max(...regs) : undefined,
    relay:
      relay === undefined
        ? undefined
        : {
            mode: relay.mode,
            portMode: relay.portMode,
            sessions: relays.reduce((n, r) => n + r.sessions, 0),
            ports: {
              total: relays.reduce((n, r) => n + r.ports.total, 0),
              free: relays.reduce((n, r) => n + r.ports.free, 0),
            },
          },
    draining: all.some((s) => s.draining),
  };
}

export function createClusterEdge(
  config: SwitchboardConfig,
  brain: Brain,
  secrets: Pick<SecretStore, 'get'>,
  log: Logger,
  options: ClusterEdgeOptions = {},
): ClusterEdge {
  const timeoutMs = options.startTimeoutMs ?? 30_000;
  let meshDir: string | undefined;
  let pool: WorkerPool | undefined;
  const need = (): WorkerPool => {
    if (pool === undefined) throw new Error('the SIP workers are not started');
    return pool;
  };
  const removeMesh = (): void => {
    if (meshDir !== undefined) rmSync(meshDir, { recursive: true, force: true });
    meshDir = undefined;
  };
  return {
    name: 'sip-edge',
    node: undefined,
    relay: undefined,
    location: undefined,
    get workers() {
      return pool?.size ?? Math.max(1, config.workers);
    },
    async start() {
      meshDir = mkdtempSync(join(tmpdir(), 'sb-mesh-'));
      const p = new WorkerPool({
        config,
        meshDir,
        sharedPorts: options.sharedPorts ?? true,
        timeoutMs,
        log,
        serve: (w: Worker) => serveBrain(w, brain, secrets),
      });
      pool = p;
      try {
        await p.start();
      } catch (err) {
        p.kill();
        removeMesh();
        throw err;
      }
      log.info({ workers: p.size }, 'SIP workers started');
    },
    async stop() {
      await pool?.stop();
      removeMesh();
    },
    drain: (ms) => pool?.drain(ms) ?? Promise.resolve(true),
    describe() {
      const p = pool;
      if (p === undefined) return [];
      const where = p
        .listeningPoints(0)
        .map((lp) => `${lp.protocol} ${lp.local.address}:${lp.local.port}`)
        .join(', ');
      const media = config.media.mode === 'never' ? 'media not anchored' : 'media anchored';
      return [`SIP listening on ${where} with ${p.size} worker processes; ${media}.`];
    },
    health: () => pool?.health() ?? { sip: 'down', relay: 'down' },
    activeCalls: () => pool?.calls ?? 0,
    async metrics() {
      const p = pool;
      if (p === undefined) return '';
      const sum = sumSnapshots(await p.askAll({ t: 'snapshot' }));
      const own = new MetricsText()
        .one('switchboard_sip_workers', 'gauge', 'SIP worker processes configured.', p.size)
        .one('switchboard_sip_workers_up', 'gauge', 'SIP worker processes running.', p.live)
        .one(
          'switchboard_sip_worker_restarts_total',
          'counter',
          'SIP workers started in place of one that exited.',
          p.restarts,
        );
      return `${own.toString()}${sum === undefined ? '' : formatEdgeMetrics(sum)}`;
    },
    listeningPoints: (i) => pool?.listeningPoints(i) ?? [],
    async inspect(i) {
      const v = await need().ask(i, { t: 'inspect' });
      if (v === undefined) throw new Error(`SIP worker ${i} is down or did not answer`);
      return v;
    },
  };
}
