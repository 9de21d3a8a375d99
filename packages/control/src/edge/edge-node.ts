/**
 * The SIP edge node (DESIGN.md "The brain and the edge"): transports → transaction layer → a
 * dispatcher sending REGISTER to the registrar and everything else to the stateful proxy, whose
 * routing asks the brain; proxied calls are anchored on the native relay.
 */
import {
  SipProxy,
  TransactionLayer,
  TransportLayer,
  createResponse,
  type IncomingMessage,
  type ListeningPoint,
  type ServerTransaction,
  type SipRequest,
  type DigestSecret,
  type TransactionError,
  type TransactionUser,
} from '@switchboard/sip-stack';
import type { MediaRelay } from '@switchboard/b2bua';
import {
  MemoryLocationService,
  Registrar,
  type Binding,
  type LocationService,
} from '@switchboard/registrar';
import { B2buaGateway } from '../b2bua-bridge/b2bua-gateway.js';
import type { Brain } from '../brain/brain.js';
import type { SecretStore } from '../store/secret-store.js';
import { BrainDigest, realmOf } from './brain-digest.js';
import { BrainRegistrarAuthenticator } from './brain-registrar-authenticator.js';
import { dispositionOf, type EdgeCalls } from './edge-calls.js';
import {
  CountedCalls,
  CountingWire,
  EdgeCounters,
  type EdgeSnapshot,
  type RelaySnapshot,
} from './edge-metrics.js';
import { silentLogger, type EdgeLogger, type EdgeOptions } from './edge-options.js';
import { EdgeRouter } from './edge-router.js';
import { AnchoringTransport, MediaAnchor, type MediaRelayPort } from './media-anchor.js';
import { TrunkDispatcher } from './trunk-dispatcher.js';
import { devicePresence, reachabilityOptions, type DevicePresence } from './edge-reachability.js';

export interface EdgeNodeDeps {
  brain: Brain;
  /** The relay to anchor media on; undefined runs without anchoring. */
  relay?: MediaRelayPort;
  /** Where bindings live (default: a new in-memory service); its owner closes it. */
  location?: LocationService;
  /** The relay for B2BUA calls; with `secrets`, outbound calls run through the B2BUA. */
  mediaRelay?: MediaRelay;
  /** Trunk credentials for the B2BUA (digest answers to carriers). */
  secrets?: Pick<SecretStore, 'get'>;
  /** Nonce HMAC key shared by every node/worker that may see a challenge's answer. */
  digestSecret?: DigestSecret;
}

/** Methods whose out-of-dialog request creates a dialog (RFC 3261 §12, RFC 6665, RFC 3515). */
const DIALOG_CREATING = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

export class EdgeNode {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly registrar: Registrar;
  readonly proxy: SipProxy;
  readonly calls: EdgeCalls;
  readonly media: MediaAnchor;
  /** Health of trunk gateways (OPTIONS probing, failures from live traffic). */
  readonly trunks: TrunkDispatcher;
  /** The B2BUA calls run on when outbound goes through it; undefined on the proxy path. */
  readonly gateway: B2buaGateway | undefined;
  readonly counters = new EdgeCounters();
  readonly #options: EdgeOptions;
  readonly #brain: Brain;
  readonly #log: EdgeLogger;
  readonly #domains = new Set<string>();
  #started = false;
  #draining = false;

  constructor(options: EdgeOptions, deps: EdgeNodeDeps) {
    this.#options = options;
    this.#brain = deps.brain;
    const log = options.logger ?? silentLogger;
    this.#log = log;
    this.transport = new TransportLayer({ logger: log });
    const calls = new CountedCalls({ brain: deps.brain, logger: log });
    calls.attach(this.counters);
    this.calls = calls;
    this.media = new MediaAnchor({
      relay: deps.relay,
      mode: options.media.mode,
      calls: this.calls,
      logger: log,
    });
    const wire = new CountingWire(
      new AnchoringTransport(this.transport, this.media),
      this.counters,
    );
    // RFC 3261 §26.3.2.4: challenges keep no transaction (an INVITE's 407 waits in the layer's
    // store, off the heap, for its ACK), so unauthenticated floods cost a challenge each.
    this.transactions = new TransactionLayer({
      transport: wire,
      logger: log,
      statelessChallenges: ['REGISTER', 'INVITE'],
    });
    this.transport.onMessage((m) => this.transactions.receive(m));
    this.trunks = new TrunkDispatcher({
      transactions: this.transactions,
      ...(options.trunkProbeIntervalMs === undefined
        ? {}
        : { intervalMs: options.trunkProbeIntervalMs }),
      ...(options.callId === undefined ? {} : { callId: options.callId }),
      logger: log,
    });
    this.gateway =
      options.outbound !== 'proxy' && deps.mediaRelay !== undefined && deps.secrets !== undefined
        ? new B2buaGateway({
            transport: this.transport,
            transactions: this.transactions,
            brain: deps.brain,
            calls: this.calls,
            relay: deps.mediaRelay,
            secrets: deps.secrets,
            trunks: this.trunks,
            transfersFromTrunks: options.transfersFromTrunks ?? false,
            ...(options.callId === undefined ? {} : { callId: options.callId }),
            ...(options.advertisedHost === undefined
              ? {}
              : { contactHost: options.advertisedHost }),
            logger: log,
          })
        : undefined;
    const digest = {
      brain: deps.brain,
      ...(options.algorithms === undefined ? {} : { algorithms: options.algorithms }),
      ...(options.nonceTtlMs === undefined ? {} : { nonceTtlMs: options.nonceTtlMs }),
      ...(deps.digestSecret === undefined ? {} : { secret: deps.digestSecret }),
    };
    const reachability = reachabilityOptions(options, this.transactions, this.transport);
    this.registrar = new Registrar({
      location: deps.location ?? new MemoryLocationService(),
      authenticator: new BrainRegistrarAuthenticator(new BrainDigest({ ...digest, mode: 'www' })),
      ...(reachability === undefined ? {} : { reachability }),
      logger: log,
    });
    const router = new EdgeRouter({
      brain: deps.brain,
      registrar: this.registrar,
      digest: new BrainDigest({ ...digest, mode: 'proxy' }),
      calls: this.calls,
      media: this.media,
      isLocalDomain: (host, request) => this.#isLocal(host, request),
      relayForeignDomains: options.relayForeignDomains ?? false,
      isOurDomain: (host) => this.#domains.has(host) || (options.isLocalDomain?.(host) ?? false),
      trunks: this.trunks,
      ...(this.gateway === undefined ? {} : { b2bua: this.gateway }),
      logger: log,
    });
    this.proxy = new SipProxy({
      transactions: this.transactions,
      transport: wire,
      route: router.route,
      routeInDialog: true,
      supported: ['path', 'outbound'],
      ...(options.advertisedHost === undefined ? {} : { recordRouteHost: options.advertisedHost }),
      hooks: {
        onFinalResponse: ({ request, response }) => {
          // The call ends when its BYE is answered (or times out), not when the BYE passes.
          if (request.method === 'BYE')
            return void this.calls.byeAnswered(request.callId, response.status);
          if (request.method !== 'INVITE' || request.toTag !== undefined) return;
          if (response.status < 300) return this.calls.answered(request.callId);
          void this.calls.end(
            request.callId,
            dispositionOf(response.status),
            `sip ${response.status}`,
          );
        },
      },
      logger: log,
    });
    const dispatcher = this.#dispatcher();
    this.transactions.setUser(this.gateway?.dispatcher(dispatcher) ?? dispatcher);
    this.#wireRegistrarEvents();
  }

  /** Opens the listening points and starts the registrar's timers. */
  async start(): Promise<readonly ListeningPoint[]> {
    for (const spec of this.#options.listen) await this.transport.listen(spec);
    this.registrar.start();
    this.trunks.start();
    this.#started = true;
    return this.transport.listeningPoints();
  }

  listeningPoints(): readonly ListeningPoint[] {
    return this.transport.listeningPoints();
  }

  /** Closes listeners, ends tracked calls (relay sessions closed, admission released). */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.registrar.close();
    this.trunks.stop();
    await this.gateway?.close();
    await this.transport.close();
    if (this.calls.size > 0) this.#log.info({ calls: this.calls.size }, 'ending remaining calls');
    await this.calls.endAll('shutdown');
  }

  get started(): boolean {
    return this.#started;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Graceful stop, first half: new dialogs get 503 from now on (REGISTER and in-dialog requests
   * are still served); resolves true once no call is left, false when `timeoutMs` ran out first.
   */
  async drain(timeoutMs: number, pollMs = 100): Promise<boolean> {
    if (!this.#draining) this.#log.info({ calls: this.calls.size, timeoutMs }, 'draining');
    this.#draining = true;
    const deadline = Date.now() + timeoutMs;
    while (this.calls.size > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, deadline - Date.now())));
    return this.calls.size === 0;
  }

  /** Counters and the layers' gauges, for /metrics. */
  async snapshot(relay: RelaySnapshot | undefined): Promise<EdgeSnapshot> {
    let registrations: number | undefined;
    try {
      registrations = await this.registrar.location.count();
    } catch (err) {
      this.#log.warn({ err }, 'location service count failed');
    }
    return {
      counters: this.counters,
      transactions: this.transactions.stats(),
      proxy: this.proxy.stats(),
      transport: this.transport.stats(),
      callsActive: this.calls.size,
      registrations,
      relay,
      draining: this.#draining,
    };
  }

  #dispatcher(): TransactionUser {
    const proxy = this.proxy;
    return {
      onRequest: (tx: ServerTransaction, incoming: IncomingMessage) => {
        const m = incoming.message;
        if (m.kind !== 'request') return;
        this.counters.countRequest(m.method);
        if (m.method === 'REGISTER') return this.#register(tx, m, incoming);
        if (this.#draining && m.toTag === undefined && DIALOG_CREATING.has(m.method))
          return this.#refuseWhileDraining(tx, m);
        proxy.onRequest(tx, incoming);
      },
      onStrayAck: (incoming) => {
        this.counters.countRequest('ACK');
        proxy.onStrayAck(incoming);
      },
      onStrayResponse: (incoming) => proxy.onStrayResponse(incoming),
      onServerTransactionError: (err: TransactionError, tx) =>
        proxy.onServerTransactionError(err, tx),
    };
  }

  /** RFC 3261 §21.5.4: 503 with Retry-After, so the client tries another server. */
  #refuseWhileDraining(tx: ServerTransaction, request: SipRequest): void {
    this.counters.drainRefused++;
    const retryAfter = String(this.#options.drainRetryAfterSec ?? 30);
    this.#log.debug({ callId: request.callId, method: request.method }, 'refused: draining');
    tx.respond(
      createResponse(request, 503, 'Service Unavailable', {
        headers: { 'Retry-After': retryAfter },
      }),
    );
  }

  #register(tx: ServerTransaction, request: SipRequest, incoming: IncomingMessage): void {
    this.registrar.handle(request, incoming.flow).then(
      (response) => {
        if (response.status === 200) this.#domains.add(realmOf(request, 'www'));
        tx.respond(response);
      },
      (err: unknown) => this.#log.error({ err }, 'registrar failed'),
    );
  }

  /** Requests from our domains must authenticate; see EdgeOptions.isLocalDomain. */
  #isLocal(host: string, request: SipRequest): boolean {
    if (this.#options.isLocalDomain !== undefined) return this.#options.isLocalDomain(host);
    return this.#domains.has(host) || host === realmOf(request, 'www');
  }

  #wireRegistrarEvents(): void {
    const presence = (type: DevicePresence, b: Binding): void => {
      const event = devicePresence(type, b);
      if (event === undefined) return;
      this.#brain
        .presenceEvent(event)
        .catch((err: unknown) => this.#log.warn({ err }, 'presence event failed'));
    };
    this.registrar.on('registered', (b) => presence('registered', b));
    this.registrar.on('unregistered', (b) => presence('unregistered', b));
    this.registrar.on('expired', (b) => presence('unregistered', b));
    this.registrar.on('reachable', (b) => presence('reachable', b));
    this.registrar.on('unreachable', (b) => presence('unreachable', b));
    this.transport.onFlowClosed(
      (flow) => void this.registrar.flowClosed(flow).catch(() => undefined),
    );
  }
}
