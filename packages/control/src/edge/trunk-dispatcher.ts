/**
 * Trunk gateway health, dispatcher-style (Kamailio's dispatcher module): every known gateway
 * (host:port:transport) is `up` or `down`; OPTIONS probes on an interval move it between the
 * two (a 2xx or a configured code is a success; another response, a timeout or a transport
 * error a failure; down after `failureThreshold` failures, up again after `successThreshold`
 * successes), and live traffic marks a gateway down at once when it times out or answers 5xx.
 */
import { isIP } from 'node:net';
import {
  SipResolver,
  createRequest,
  generateCallId,
  generateTag,
  systemClock,
  type ClientTransaction,
  type ClientTransactionHandler,
  type Clock,
  type SipRequest,
  type Target,
  type TimerHandle,
} from '@switchboard/sip-stack';
import type { EdgeLogger } from './edge-options.js';

export type GatewayTransport = 'udp' | 'tcp' | 'tls';

/** One trunk gateway, as a trunk hop names it. */
export interface TrunkGateway {
  host: string;
  port: number;
  transport: GatewayTransport;
}

export type GatewayState = 'up' | 'down';

export interface GatewayStatus extends TrunkGateway {
  key: string;
  state: GatewayState;
  /** Consecutive failed probes (or live failures) / successful probes. */
  failures: number;
  successes: number;
  /** Clock time of the last state change. */
  since: number;
}

/** What the dispatcher needs of the transaction layer (TransactionLayer fits). */
export interface ProbeSender {
  sendRequest(
    request: SipRequest,
    target: Target,
    handler: ClientTransactionHandler,
  ): ClientTransaction;
}

export interface TrunkDispatcherOptions {
  transactions: ProbeSender;
  clock?: Clock;
  /** Call-ID of each probe (default generateCallId; a cluster worker encodes itself in it). */
  callId?: () => string;
  /**
   * Probe interval, ms (default 30 000, Kamailio's ds_ping_interval). 0: no OPTIONS probes (for
   * carriers that do not answer them); a gateway live traffic marked down is then tried again
   * after `holdDownMs`.
   */
  intervalMs?: number;
  /** Without probing: how long a gateway marked down by live traffic stays down, ms (default 30 000). */
  holdDownMs?: number;
  /** A probe with no final response within this is a failure, ms (default 5 000). */
  probeTimeoutMs?: number;
  /** Probe responses besides 2xx that count as up (ds_ping_reply_codes), e.g. [403, 404, 405]. */
  upCodes?: readonly number[];
  /** Failed probes before an up gateway goes down (default 1, ds_probing_threshold). */
  failureThreshold?: number;
  /** Successful probes before a down gateway comes back (default 1, ds_inactive_threshold). */
  successThreshold?: number;
  /** A trunk INVITE with no response at all within this fails over to the next trunk, ms (default 5 000, fr_timer). */
  failoverTimeoutMs?: number;
  /** From of the probes (default `sip:dispatcher@localhost`, ds_ping_from). */
  probeFrom?: string;
  /** Most gateways tracked; later ones are used unprobed (default 1 024). */
  maxGateways?: number;
  /** Host name → next hop; default RFC 3263 through a SipResolver. IP literals skip it. */
  resolve?: (gateway: TrunkGateway) => Promise<Target | undefined>;
  logger?: EdgeLogger;
  onStateChange?: (status: GatewayStatus) => void;
}

/** RFC 3261 §19.1.2: 5061 for TLS, 5060 otherwise. */
export function gatewayPort(port: number | null, transport: GatewayTransport): number {
  return port ?? (transport === 'tls' ? 5061 : 5060);
}

export function gatewayKey(g: TrunkGateway): string {
  return `${g.host.toLowerCase()}:${g.port}:${g.transport}`;
}

/** Host as it goes into a URI (IPv6 literals in brackets). */
export function uriHost(host: string): string {
  return isIP(host) === 6 ? `[${host}]` : host;
}

interface Gateway extends GatewayStatus {
  probe: ClientTransaction | undefined;
  probeTimer: TimerHandle | undefined;
}

export class TrunkDispatcher {
  readonly #o: TrunkDispatcherOptions;
  readonly #clock: Clock;
  readonly #gateways = new Map<string, Gateway>();
  readonly #upCodes: ReadonlySet<number>;
  #timer: TimerHandle | undefined;
  #running = false;
  #resolver: SipResolver | undefined;
  #cseq = 1;

  constructor(options: TrunkDispatcherOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#upCodes = new Set(options.upCodes ?? []);
  }

  get intervalMs(): number {
    return this.#o.intervalMs ?? 30_000;
  }

  get failoverTimeoutMs(): number {
    return this.#o.failoverTimeoutMs ?? 5_000;
  }

  /** Whether gateways are probed with OPTIONS (`intervalMs` above 0). */
  get probing(): boolean {
    return this.intervalMs > 0;
  }

  /** Starts probing every known gateway on the interval (idempotent; nothing when not probing). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    if (this.probing) this.#schedule();
  }

  /** Stops the interval and abandons probes in flight (idempotent). */
  stop(): void {
    this.#running = false;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const g of this.#gateways.values()) this.#endProbe(g);
  }

  /** Remembers a gateway (a trunk hop of a directive); a new one starts up. */
  track(gateway: TrunkGateway): void {
    const key = gatewayKey(gateway);
    if (this.#gateways.has(key) || this.#gateways.size >= (this.#o.maxGateways ?? 1024)) return;
    this.#gateways.set(key, {
      host: gateway.host,
      port: gateway.port,
      transport: gateway.transport,
      key,
      state: 'up',
      failures: 0,
      successes: 0,
      since: this.#clock.now(),
      probe: undefined,
      probeTimer: undefined,
    });
  }

  /** Unknown gateways count as up: they are tried, then probed once tracked. */
  isUp(gateway: TrunkGateway): boolean {
    const g = this.#gateways.get(gatewayKey(gateway));
    if (g === undefined || g.state === 'up') return true;
    // without probes nothing else brings it back: it is tried again after the hold-down
    if (!this.probing && this.#clock.now() - g.since >= (this.#o.holdDownMs ?? 30_000)) {
      this.#set(g, 'up', 'hold-down over');
      return true;
    }
    return false;
  }

  status(): GatewayStatus[] {
    return [...this.#gateways.values()].map((g) => ({
      host: g.host,
      port: g.port,
      transport: g.transport,
      key: g.key,
      state: g.state,
      failures: g.failures,
      successes: g.successes,
      since: g.since,
    }));
  }

  /** Live traffic: the gateway timed out or answered 5xx; it goes down until probes succeed. */
  reportFailure(gateway: TrunkGateway, reason: string): void {
    const g = this.#gateways.get(gatewayKey(gateway));
    if (g === undefined) return;
    g.failures++;
    g.successes = 0;
    if (g.state === 'up') this.#set(g, 'down', reason);
  }

  /** Live traffic: the gateway answered (any response but a timeout or 5xx). */
  reportSuccess(gateway: TrunkGateway): void {
    const g = this.#gateways.get(gatewayKey(gateway));
    if (g !== undefined && g.state === 'up') g.failures = 0;
  }

  /** Probes every known gateway now; resolves when each probe has ended. */
  async probeAll(): Promise<void> {
    await Promise.all([...this.#gateways.values()].map((g) => this.#probe(g)));
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#running) return;
      for (const g of this.#gateways.values()) if (g.probe === undefined) void this.#probe(g);
      this.#schedule();
    }, this.intervalMs);
  }

  async #probe(g: Gateway): Promise<void> {
    if (g.probe !== undefined) return;
    let target: Target | undefined;
    try {
      target = await this.#target(g);
    } catch (err) {
      this.#o.logger?.debug({ err, gateway: g.key }, 'trunk gateway did not resolve');
    }
    if (target === undefined) return this.#result(g, false, 'no address');
    if (g.probe !== undefined) return;
    await new Promise<void>((resolve) => {
      const finish = (ok: boolean, why: string): void => {
        if (g.probe === undefined) return;
        this.#endProbe(g);
        this.#result(g, ok, why);
        resolve();
      };
      const handler: ClientTransactionHandler = {
        onResponse: (r) => {
          if (r.status >= 200) finish(this.#isUpResponse(r.status), `OPTIONS ${r.status}`);
        },
        onTimeout: () => finish(false, 'OPTIONS timeout'),
        onTransportError: () => finish(false, 'transport error'),
      };
      try {
        g.probe = this.#o.transactions.sendRequest(this.#options(g), target, handler);
      } catch (err) {
        this.#o.logger?.debug({ err, gateway: g.key }, 'trunk probe not sent');
        this.#result(g, false, 'send failed');
        return resolve();
      }
      const wait = this.#o.probeTimeoutMs ?? 5_000;
      g.probeTimer = this.#clock.setTimeout(() => finish(false, 'OPTIONS timeout'), wait);
    });
  }

  /** Kamailio dispatcher: 200 (here any 2xx) or a listed code means the gateway is alive. */
  #isUpResponse(status: number): boolean {
    return (status >= 200 && status < 300) || this.#upCodes.has(status);
  }

  #options(g: Gateway): SipRequest {
    const uri = `sip:${uriHost(g.host)}:${g.port};transport=${g.transport}`;
    return createRequest({
      method: 'OPTIONS',
      uri,
      from: `<${this.#o.probeFrom ?? 'sip:dispatcher@localhost'}>;tag=${generateTag()}`,
      to: `<${uri}>`,
      callId: this.#o.callId?.() ?? generateCallId(),
      cseq: this.#cseq++,
      maxForwards: 70,
    });
  }

  async #target(g: Gateway): Promise<Target | undefined> {
    if (isIP(g.host) !== 0) return { protocol: g.transport, address: g.host, port: g.port };
    if (this.#o.resolve !== undefined) return this.#o.resolve(g);
    this.#resolver ??= new SipResolver({ clock: this.#clock });
    const params = new Map([['transport', g.transport]]);
    const [first] = await this.#resolver.resolve({
      scheme: 'sip',
      host: g.host,
      port: g.port,
      params,
    });
    if (first === undefined) return undefined;
    return {
      protocol: first.protocol,
      address: first.address,
      port: first.port,
      ...(first.serverName === undefined ? {} : { serverName: first.serverName }),
    };
  }

  #endProbe(g: Gateway): void {
    this.#clock.clearTimeout(g.probeTimer);
    g.probeTimer = undefined;
    const tx = g.probe;
    g.probe = undefined;
    tx?.dispose();
  }

  #result(g: Gateway, ok: boolean, why: string): void {
    if (ok) {
      g.successes++;
      g.failures = 0;
      if (g.state === 'down' && g.successes >= (this.#o.successThreshold ?? 1))
        this.#set(g, 'up', why);
      return;
    }
    g.failures++;
    g.successes = 0;
    if (g.state === 'up' && g.failures >= (this.#o.failureThreshold ?? 1))
      this.#set(g, 'down', why);
  }

  #set(g: Gateway, state: GatewayState, why: string): void {
    g.state = state;
    g.since = this.#clock.now();
    this.#o.logger?.info({ gateway: g.key, state, reason: why }, 'trunk gateway state changed');
    const { probe: _p, probeTimer: _t, ...status } = g;
    try {
      this.#o.onStateChange?.(status);
    } catch (err) {
      this.#o.logger?.warn({ err }, 'trunk state listener threw');
    }
  }
}
