/** Messages between the cluster primary and its SIP workers (cluster IPC, JSON). */
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';

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

export type PrimaryToWorker =
  { t: 'mesh-connect' } | { t: 'start' } | { t: 'inspect'; id: number } | { t: 'stop' };

export type WorkerToPrimary =
  | { t: 'mesh-listening' }
  | { t: 'mesh-ready' }
  | { t: 'started'; points: ListeningPoint[] }
  | { t: 'failed'; error: string }
  | { t: 'inspect-res'; id: number; value: WorkerInspection }
  | { t: 'stopped' };

export function isMessage<T extends { t: string }>(m: unknown, t: T['t']): m is T {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === t;
}
