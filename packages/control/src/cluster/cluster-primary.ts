/**
 * `switchboard start --workers N`: the primary runs the store, the brain (per-account live state
 * stays single here) and the HTTP API; its SIP edge is N worker processes sharing the SIP ports
 * (see worker-pool.ts). Health, metrics and the graceful stop of the node cover the workers.
 */
import type { ListeningPoint } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';
import {
  startSwitchboard,
  type RunningSwitchboard,
  type StartOptions,
} from '../server/switchboard-server.js';
import type { WorkerInspection } from './cluster-messages.js';
import { createClusterEdge, type ClusterEdge, type ClusterEdgeOptions } from './cluster-edge.js';

export type ClusterOptions = StartOptions & ClusterEdgeOptions;

export interface RunningCluster {
  /** The node: control plane, HTTP, and the workers as its SIP edge (health, metrics, drain). */
  readonly server: RunningSwitchboard;
  readonly workers: number;
  /** Where worker `i` listens for SIP. */
  listeningPoints(worker: number): readonly ListeningPoint[];
  inspect(worker: number): Promise<WorkerInspection>;
  stop(): Promise<void>;
}

/** Starts the control plane here and `config.workers` SIP workers. */
export async function runSwitchboardCluster(
  config: SwitchboardConfig,
  options: ClusterOptions = {},
): Promise<RunningCluster> {
  const held: { edge?: ClusterEdge } = {};
  const server = await startSwitchboard(config, {
    ...options,
    edge: (brain, secrets, log) =>
      (held.edge = createClusterEdge(config, brain, secrets, log, options)),
  });
  const edge = held.edge;
  if (edge === undefined) {
    await server.stop();
    throw new Error('sip.enabled is off: there is no SIP edge to run in workers');
  }
  return {
    server,
    workers: edge.workers,
    listeningPoints: (i) => edge.listeningPoints(i),
    inspect: (i) => edge.inspect(i),
    stop: () => server.stop(),
  };
}
