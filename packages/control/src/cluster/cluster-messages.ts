/** Messages between the cluster primary and its SIP workers (cluster IPC, JSON). */
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';
import type { EdgeSnapshot } from '../edge/edge-metrics.js';
import type { RelayHealth } from '../server/edge-service.js';

/** Environment variable carrying a worker's `WorkerInit` (JSON). */
export const CLUSTER_INIT_ENV = 'SWITCHBOARD_CLUSTER_INIT';

export interface WorkerInit {
  t: 'init';
  index: number;
  workers: number;
  /** Directory of the workers' unix sockets. */
  meshDir: string;
  config: SwitchboardConfig;
  /** True: every worker shares the SIP ports (cluster); false: each binds its own (tests, diagnostics). */
  sharedPorts: boolean;
  /** True when this worker replaces one that exited: it copies the registrations from a peer. */
  restarted?: boolean;
}

/** What a worker reports when asked (diagnostics, tests). */
export interface WorkerInspection {
  index: number;
  pid: number;
  bindings: number;
  activeCalls: number;
  /** Messages this worker received and handed to their owner. */
  forwarded: number;
  /** Messages other workers handed to this one. */
  injected: number;
  /** Writes on stream flows held here, asked by other workers. */
  remoteWrites: number;
  meshDropped: number;
}

/** Questions the primary asks a worker; each is answered by a `reply` with the same id. */
export type WorkerRequest =
  | { t: 'inspect'; id: number }
  | { t: 'snapshot'; id: number }
  | { t: 'drain'; id: number; timeoutMs: number }
  /** A restarted peer listens again: connect to it (answered once connected). */
  | { t: 'mesh-peer'; id: number; index: number };

export type PrimaryToWorker =
  { t: 'mesh-connect' } | { t: 'start' } | { t: 'stop' } | WorkerRequest;

/** What a reply carries for each request. */
export interface WorkerReplies {
  inspect: WorkerInspection;
  snapshot: EdgeSnapshot;
  drain: boolean;
  'mesh-peer': boolean;
}

export type WorkerToPrimary =
  | { t: 'mesh-listening' }
  | { t: 'mesh-ready' }
  | { t: 'started'; points: ListeningPoint[]; relay: RelayHealth }
  | { t: 'failed'; error: string }
  | { t: 'reply'; id: number; value: unknown }
  /** Sent when the number of calls changed (at most once a second). */
  | { t: 'calls'; calls: number }
  | { t: 'stopped' };

export function isMessage<T extends { t: string }>(m: unknown, t: T['t']): m is T {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === t;
}
