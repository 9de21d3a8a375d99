/**
 * What every running node shares, whether it holds the brain or asks a remote one: components
 * started in order and stopped in reverse, health, metrics, and the graceful stop (drain the
 * calls, bounded, then stop).
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { SwitchboardConfig } from '../cli/config.js';
import { MetricsText } from '../edge/edge-metrics.js';
import type { EdgeService } from './edge-service.js';
import { healthOf, type HealthReport } from './ops-routes.js';

/** A running node, with the brain in it or asking a remote one. */
export interface RunningNode {
  readonly httpPort: number;
  /** The SIP edge, when `sip.enabled`. */
  readonly edge: EdgeService | undefined;
  readonly draining: boolean;
  health(): HealthReport;
  metrics(): Promise<string>;
  /** Refuses new dialogs and waits for calls to end (default bound: drainTimeoutSec). */
  drain(timeoutMs?: number): Promise<boolean>;
  /** Graceful stop (SIGTERM): drain, end the calls left at the deadline, stop everything. */
  shutdown(): Promise<{ drained: boolean }>;
  /** Immediate stop: listeners closed, calls ended, store closed. Safe to call twice. */
  stop(): Promise<void>;
}

/** A part of the running server, started in order and stopped in reverse. */
export interface ServerComponent {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface NodeRuntimeOptions {
  components: readonly ServerComponent[];
  edge: EdgeService | undefined;
  log: Logger;
  drainTimeoutSec: number;
  store: () => HealthReport['store'];
  /** Runs after every component stopped (close the store, the brain client). */
  afterStop?: () => Promise<void>;
}

export class NodeRuntime {
  readonly #o: NodeRuntimeOptions;
  readonly #started: ServerComponent[] = [];
  #draining = false;
  #stopping: Promise<void> | undefined;

  constructor(options: NodeRuntimeOptions) {
    this.#o = options;
  }

  /** Starts the components in order; on a failure, stops the ones started and rethrows. */
  async start(): Promise<void> {
    try {
      for (const c of this.#o.components) {
        await c.start();
        this.#started.push(c);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  get draining(): boolean {
    return this.#draining;
  }

  health(): HealthReport {
    const edge = this.#o.edge;
    const parts = edge?.health() ?? { sip: 'off' as const, relay: 'off' as const };
    return healthOf({
      ...parts,
      store: this.#o.store(),
      calls: edge?.activeCalls() ?? 0,
      draining: this.#draining || this.#stopping !== undefined,
    });
  }

  async metrics(): Promise<string> {
    const mem = process.memoryUsage();
    const own = new MetricsText()
      .one('switchboard_up', 'gauge', '1 while the node runs.', 1)
      .one('process_resident_memory_bytes', 'gauge', 'Resident set size.', mem.rss)
      .one('nodejs_heap_used_bytes', 'gauge', 'V8 heap in use.', mem.heapUsed)
      .one(
        'process_uptime_seconds',
        'gauge',
        'Seconds since the process started.',
        Math.floor(process.uptime()),
      );
    return `${own.toString()}${(await this.#o.edge?.metrics()) ?? ''}`;
  }

  /** Stops taking new dialogs and waits (at most `timeoutMs`) for the calls to end. */
  drain(timeoutMs = this.#o.drainTimeoutSec * 1000): Promise<boolean> {
    this.#draining = true;
    return this.#o.edge?.drain(timeoutMs) ?? Promise.resolve(true);
  }

  /** The graceful stop of SIGTERM: drain (bounded by drainTimeoutSec), end what is left, stop. */
  async shutdown(): Promise<{ drained: boolean }> {
    const drained = await this.drain();
    const left = this.#o.edge?.activeCalls() ?? 0;
    if (!drained) this.#o.log.warn({ calls: left }, 'drain timed out: ending the remaining calls');
    await this.stop();
    return { drained };
  }

  /** Stops the components in reverse order; safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const c of [...this.#started].reverse()) {
        try {
          await c.stop();
        } catch (err) {
          this.#o.log.error({ err, component: c.name }, 'component stop failed');
        }
      }
      this.#started.length = 0;
      await this.#o.afterStop?.();
    })();
    return this.#stopping;
  }
}

/** The HTTP listener as a component; `port` is the bound port once started. */
export function httpComponent(
  app: FastifyInstance,
  config: SwitchboardConfig,
): ServerComponent & { readonly port: number } {
  let port = config.http.port;
  return {
    name: 'http',
    get port() {
      return port;
    },
    async start() {
      await app.listen({ host: config.http.host, port: config.http.port });
      const address = app.server.address();
      if (typeof address === 'object' && address !== null) port = address.port;
    },
    stop: () => app.close(),
  };
}

/** The RunningNode face of a runtime, with what the caller adds (store, brain ...). */
export function nodeApi<T extends object>(
  runtime: NodeRuntime,
  http: { readonly port: number },
  edge: EdgeService | undefined,
  extra: T,
): RunningNode & T {
  const api: RunningNode = {
    get httpPort() {
      return http.port;
    },
    edge,
    get draining() {
      return runtime.draining;
    },
    health: () => runtime.health(),
    metrics: () => runtime.metrics(),
    drain: (timeoutMs) => runtime.drain(timeoutMs),
    shutdown: () => runtime.shutdown(),
    stop: () => runtime.stop(),
  };
  return Object.defineProperties(extra, Object.getOwnPropertyDescriptors(api)) as RunningNode & T;
}
