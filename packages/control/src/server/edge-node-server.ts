/**
 * A node that asks a remote control plane (`--brain URL`): the SIP edge, the relay and a small
 * HTTP listener for /metrics and /health. No store is opened and no control-plane API is served.
 */
import { pino } from 'pino';
import type { SwitchboardConfig } from '../cli/config.js';
import { HttpBrain } from '../http/http-brain.js';
import { createEdgeService } from './edge-service.js';
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

export async function startEdgeNodeServer(
  config: SwitchboardConfig,
  options: StartOptions = {},
): Promise<RunningEdgeNode> {
  const brainUrl = config.brain;
  if (brainUrl === undefined || config.nodeToken === undefined)
    throw new Error('an edge node needs brain and node_token');
  const log = options.logger ?? pino({ level: config.logLevel });
  const brain = new HttpBrain({ baseUrl: brainUrl, nodeToken: config.nodeToken });
  const edge = config.sip.enabled
    ? createEdgeService(config, brain, log.child({ component: 'sip' }))
    : undefined;
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
