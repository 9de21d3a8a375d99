/**
 * A node that asks a remote control plane (`--brain URL`): the SIP edge, the relay and a small
 * HTTP listener for /metrics and /health. No store is opened and no control-plane API is served.
 * With `workers` > 1 the SIP edge is that many worker processes (cluster-edge.ts) whose brain
 * calls this process relays to the control plane.
 */
import { pino } from 'pino';
import type { SwitchboardConfig } from '../cli/config.js';
import { HttpBrain } from '../http/http-brain.js';
import { createClusterEdge } from '../cluster/cluster-edge.js';
import { createEdgeService, type EdgeService } from './edge-service.js';
import { createHttpApp } from './http-app.js';
import {
  NodeRuntime,
  httpComponent,
  nodeApi,
  type RunningNode,
  type ServerComponent,
} from './node-runtime.js';
import type { StartOptions } from './switchboard-server.js';

export interface RunningEdgeNode extends RunningNode {
  /** The control plane this node asks. */
  readonly brainUrl: string;
  readonly brain: HttpBrain;
}

/** Trunk secrets stay in the control plane's store: an edge node has none to hand out. */
const NO_SECRETS = { get: (): Promise<undefined> => Promise.resolve(undefined) };

export async function startEdgeNodeServer(
  config: SwitchboardConfig,
  options: StartOptions = {},
): Promise<RunningEdgeNode> {
  const brainUrl = config.brain;
  if (brainUrl === undefined || config.nodeToken === undefined)
    throw new Error('an edge node needs brain and node_token');
  const log = options.logger ?? pino({ level: config.logLevel });
  const brain = new HttpBrain({ baseUrl: brainUrl, nodeToken: config.nodeToken });
  const sipLog = log.child({ component: 'sip' });
  let edge: EdgeService | undefined;
  if (config.sip.enabled)
    edge =
      config.workers > 1
        ? createClusterEdge(config, brain, NO_SECRETS, sipLog)
        : createEdgeService(config, brain, sipLog);
  const components: ServerComponent[] = [];
  const runtime = new NodeRuntime({
    components,
    edge,
    log,
    drainTimeoutSec: config.drainTimeoutSec,
    store: () => 'remote',
    afterStop: () => Promise.resolve(brain.close()),
  });
  const app = await createHttpApp({
    logger: log,
    ops: {
      health: () => runtime.health(),
      metrics: () => runtime.metrics(),
    },
  });
  const http = httpComponent(app, config);
  components.push(http);
  if (edge !== undefined) components.push(edge);
  await runtime.start();
  log.info({ port: http.port, brain: brainUrl }, 'switchboard edge node started');
  return nodeApi(runtime, http, edge, { brainUrl, brain });
}
