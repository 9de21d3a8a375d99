import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { installErrorHandler } from '../api/error-handler.js';
import { registerPublicApi } from '../api/public-api.js';
import type { Brain } from '../brain/brain.js';
import { registerBrainRoutes } from '../http/brain-routes.js';
import type { ConfigStore } from '../store/config-store.js';
import { registerOpsRoutes, type OpsRoutesOptions } from './ops-routes.js';

export interface HttpAppOptions {
  /** The decisions behind the control-plane API (POST /auth, /route ...); omitted → not served. */
  brain?: Brain;
  /** Required with `brain`: the token nodes send in x-switchboard-node-token. */
  nodeToken?: string;
  /** The configuration store behind the public REST API /v1; omitted → not served. */
  store?: ConfigStore;
  /** `/health` and `/metrics` of the running node; omitted → `/health` answers `{ status: 'ok' }`. */
  ops?: OpsRoutesOptions;
  logger?: FastifyBaseLogger | false;
  bodyLimit?: number;
}

/**
 * The HTTP server of a node: health and metrics, and on a control plane the control-plane API and
 * the public REST API.
 */
export async function createHttpApp(options: HttpAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger === undefined || options.logger === false
      ? { logger: false }
      : { loggerInstance: options.logger }),
    bodyLimit: options.bodyLimit ?? 1_048_576,
    ajv: {
      customOptions: {
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: false,
      },
    },
    return503OnClosing: true,
  });
  installErrorHandler(app);
  if (options.ops !== undefined) registerOpsRoutes(app, options.ops);
  else app.get('/health', () => ({ status: 'ok' }));
  if (options.brain !== undefined) {
    if (options.nodeToken === undefined || options.nodeToken.length < 16) {
      throw new Error(
        'nodeToken of at least 16 characters is required to serve the control-plane API',
      );
    }
    registerBrainRoutes(app, { brain: options.brain, nodeToken: options.nodeToken });
  }
  if (options.store !== undefined)
    await app.register(
      (scope) => registerPublicApi(scope, { store: options.store as ConfigStore }),
      { prefix: '/v1' },
    );
  await app.ready();
  return app;
}
