/**
 * The SIP edge node (DESIGN.md "The brain and the edge"): transports → transaction layer → a
 * dispatcher sending REGISTER to the registrar and everything else to the stateful proxy, whose
 * routing asks the brain; proxied calls are anchored on the native relay.
 */
import {
  SipProxy,
  TransactionLayer,
  TransportLayer,
  type IncomingMessage,
  type ListeningPoint,
  type ServerTransaction,
  type SipRequest,
  type TransactionError,
  type TransactionUser,
} from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar, type Binding } from '@switchboard/registrar';
import type { Brain } from '../brain/brain.js';
import { BrainDigest, realmOf } from './brain-digest.js';
import { BrainRegistrarAuthenticator } from './brain-registrar-authenticator.js';
import { EdgeCalls, dispositionOf } from './edge-calls.js';
import { silentLogger, type EdgeLogger, type EdgeOptions } from './edge-options.js';
import { EdgeRouter } from './edge-router.js';
import { AnchoringTransport, MediaAnchor, type MediaRelayPort } from './media-anchor.js';

export interface EdgeNodeDeps {
  brain: Brain;
  /** The relay to anchor media on; undefined runs without anchoring. */
  relay?: MediaRelayPort;
}

export class EdgeNode {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly registrar: Registrar;
  readonly proxy: SipProxy;
  readonly calls: EdgeCalls;
  readonly media: MediaAnchor;
  readonly #options: EdgeOptions;
  readonly #brain: Brain;
  readonly #log: EdgeLogger;
  readonly #domains = new Set<string>();
  #started = false;

  constructor(options: EdgeOptions, deps: EdgeNodeDeps) {
    this.#options = options;
    this.#brain = deps.brain;
    const log = options.logger ?? silentLogger;
    this.#log = log;
    this.transport = new TransportLayer({ logger: log });
    this.calls = new EdgeCalls({ brain: deps.brain, logger: log });
    this.media = new MediaAnchor({
      relay: deps.relay,
      mode: options.media.mode,
      calls: this.calls,
      logger: log,
    });
    const wire = new AnchoringTransport(this.transport, this.media);
    this.transactions = new TransactionLayer({ transport: wire, logger: log });
    this.transport.onMessage((m) => this.transactions.receive(m));
    const algorithms = options.algorithms === undefined ? {} : { algorithms: options.algorithms };
    this.registrar = new Registrar({
      location: new MemoryLocationService(),
      authenticator: new BrainRegistrarAuthenticator(
        new BrainDigest({ brain: deps.brain, mode: 'www', ...algorithms }),
      ),
      logger: log,
    });
    const router = new EdgeRouter({
      brain: deps.brain,
      registrar: this.registrar,
      digest: new BrainDigest({ brain: deps.brain, mode: 'proxy', ...algorithms }),
      calls: this.calls,
      media: this.media,
      isLocalDomain: (host, request) => this.#isLocal(host, request),
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
    this.transactions.setUser(this.#dispatcher());
    this.#wireRegistrarEvents();
  }

  /** Opens the listening points and starts the registrar's timers. */
  async start(): Promise<readonly ListeningPoint[]> {
    for (const spec of this.#options.listen) await this.transport.listen(spec);
    this.registrar.start();
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
    await this.transport.close();
    await this.calls.endAll('shutdown');
  }

  #dispatcher(): TransactionUser {
    const proxy = this.proxy;
    return {
      onRequest: (tx: ServerTransaction, incoming: IncomingMessage) => {
        const m = incoming.message;
        if (m.kind === 'request' && m.method === 'REGISTER') return this.#register(tx, m, incoming);
        proxy.onRequest(tx, incoming);
      },
      onStrayAck: (incoming) => proxy.onStrayAck(incoming),
      onStrayResponse: (incoming) => proxy.onStrayResponse(incoming),
      onServerTransactionError: (err: TransactionError, tx) =>
        proxy.onServerTransactionError(err, tx),
    };
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
    const presence = (type: 'registered' | 'unregistered', b: Binding): void => {
      const a = b.identity?.attributes;
      if (
        a?.['accountId'] === undefined ||
        a['userId'] === undefined ||
        a['deviceId'] === undefined
      )
        return;
      const event = {
        type,
        accountId: a['accountId'],
        userId: a['userId'],
        deviceId: a['deviceId'],
      };
      this.#brain
        .presenceEvent(event)
        .catch((err: unknown) => this.#log.warn({ err }, 'presence event failed'));
    };
    this.registrar.on('registered', (b) => presence('registered', b));
    this.registrar.on('unregistered', (b) => presence('unregistered', b));
    this.registrar.on('expired', (b) => presence('unregistered', b));
    this.transport.onFlowClosed(
      (flow) => void this.registrar.flowClosed(flow).catch(() => undefined),
    );
  }
}
