/** `/health` and `/metrics` (Prometheus) of a running node, for load balancers and scrapers. */
import type { FastifyInstance } from 'fastify';

export type HealthStatus = 'ok' | 'draining' | 'down';

/** What `/health` answers: 200 when `status` is ok, 503 while draining or when a part is down. */
export interface HealthReport {
  status: HealthStatus;
  /** The SIP edge: listening (`ok`), not running (`down`), or disabled (`off`). */
  sip: 'ok' | 'down' | 'off';
  /** The RTP relay's forwarding mode, `off` (media never anchored) or `down`. */
  relay: 'kernel' | 'userspace' | 'off' | 'down';
  /** The configuration store: local SQLite (`ok`/`down`) or a remote control plane (`remote`). */
  store: 'ok' | 'down' | 'remote';
  /** Calls the edge tracks now. */
  calls: number;
}

export type HealthParts = Omit<HealthReport, 'status'> & { draining: boolean };

/** Overall status: draining wins (the node is going away), then any part that is down. */
export function healthOf(parts: HealthParts): HealthReport {
  const { draining, ...rest } = parts;
  const down = rest.sip === 'down' || rest.relay === 'down' || rest.store === 'down';
  return { status: draining ? 'draining' : down ? 'down' : 'ok', ...rest };
}

export interface OpsRoutesOptions {
  health: () => HealthReport;
  /** Prometheus text exposition. */
  metrics: () => Promise<string>;
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function registerOpsRoutes(app: FastifyInstance, options: OpsRoutesOptions): void {
  app.get('/health', (_req, reply) => {
    const report = options.health();
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_req, reply) => {
    const text = await options.metrics();
    return reply.header('content-type', PROMETHEUS_CONTENT_TYPE).send(text);
  });
}
