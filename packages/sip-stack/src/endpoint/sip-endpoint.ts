/**
 * The Endpoint API: a SIP user agent (UAC and UAS) in a few lines. It wires a TransportLayer, a
 * TransactionLayer and a dialog store, routes requests to handlers per method, and sends
 * requests and INVITEs with digest retry, CANCEL and dialogs.
 */
import { DigestClient } from '../auth/digest-client.js';
import type { Dialog } from '../dialog/dialog.js';
import { DialogStore } from '../dialog/dialog-store.js';
import { createRequest } from '../message/build-request.js';
import { generateCallId, generateTag } from '../message/ids.js';
import { createNameAddr, formatNameAddr, parseNameAddr } from '../message/name-addr.js';
import type { NameAddr } from '../message/name-addr.js';
import type { SipMessage, SipRequest, SipResponse } from '../message/sip-message.js';
import { resolveTimers } from '../transaction/timer-config.js';
import { TransactionLayer } from '../transaction/transaction-layer.js';
import type { ServerTransaction } from '../transaction/transaction.js';
import type { TransactionUser } from '../transaction/transaction-user.js';
import { TransportLayer } from '../transport/transport-layer.js';
import type {
  IncomingMessage,
  ListeningPoint,
  Target,
  TransportProtocol,
} from '../transport/transport.js';
import { systemClock } from '../util/clock.js';
import { sendClientRequest } from './client-request.js';
import type { DialogSession } from './dialog-session.js';
import type { EndpointContext } from './endpoint-context.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';
import type {
  AttachEndpointOptions,
  EndpointAttachment,
  EndpointLogger,
  EndpointOptions,
  InviteOptions,
  RequestOptions,
} from './endpoint-options.js';
import type { IncomingRequest } from './incoming-request.js';
import { LocalContact } from './local-contact.js';
import { NextHop } from './next-hop.js';
import { OutgoingInvite } from './outgoing-invite.js';
import { TypedEmitter } from './typed-emitter.js';
import { UaCore, type RequestHandler } from './ua-core.js';

export type SipEndpointEvents = {
  /** A new out-of-dialog request, before its handler runs (a listener may answer it). */
  request: [request: IncomingRequest];
  /** A dialog was created (UAS: by accept(); UAC: by a 1xx with tag or a 2xx). */
  dialog: [dialog: DialogSession];
  /** The peer cancelled an INVITE; it was answered 487 (RFC 3261 §9.2). */
  cancel: [request: IncomingRequest, cancel: SipRequest];
  /** A request handler threw or rejected (the request got 500 if unanswered). */
  error: [error: unknown, request: IncomingRequest | undefined];
};

/** Methods whose requests carry our Contact unless told otherwise. */
const CONTACT_METHODS: ReadonlySet<string> = new Set(['INVITE', 'REGISTER', 'SUBSCRIBE', 'REFER']);

const NOOP = (): void => undefined;
const SILENT: EndpointLogger = { debug: NOOP, info: NOOP, warn: NOOP, error: NOOP };

function argumentError(message: string): EndpointError {
  return new EndpointError(EndpointErrorCode.Argument, message);
}

/** A From value with a tag (RFC 3261 §8.1.1.3); a string that does not parse is rejected. */
function withFromTag(from: string | NameAddr): string {
  let n: NameAddr;
  if (typeof from === 'string') {
    const parsed = parseNameAddr(from);
    if (!parsed.ok) throw argumentError(`bad From ${from}: ${parsed.reason}`);
    n = parsed.value;
  } else n = from;
  if (n.params.has('tag')) return formatNameAddr(n);
  return formatNameAddr(
    createNameAddr(n.uri, [...n.params, ['tag', generateTag()]], n.displayName),
  );
}

export class SipEndpoint extends TypedEmitter<SipEndpointEvents> {
  readonly transport: TransportLayer;
  readonly transactions: TransactionLayer;
  readonly dialogs = new DialogStore();
  readonly #options: EndpointOptions;
  readonly #ctx: EndpointContext;
  readonly #core: UaCore;
  readonly #handlers = new Map<string, RequestHandler>();
  readonly #sessions = new Map<Dialog, DialogSession>();
  readonly #closeHandlers = new Set<() => void>();
  readonly #supported: Set<string>;
  readonly #attached: boolean;
  #closed = false;
  #closing: Promise<void> | undefined;

  /**
   * Use `createEndpoint`, which also opens the listening points, or `attachEndpoint`, which shares
   * a host's transport and transaction layer (`attach`).
   */
  constructor(options: EndpointOptions, attach?: EndpointAttachment) {
    super();
    this.#options = options;
    this.#attached = attach !== undefined;
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? SILENT;
    this.transport =
      attach?.transport ?? new TransportLayer({ ...options.transport, clock, logger });
    this.transactions =
      attach?.transactions ??
      new TransactionLayer({
        transport: this.transport,
        clock,
        ...(options.timers === undefined ? {} : { timers: options.timers }),
        logger,
      });
    this.#supported = new Set((options.supported ?? []).map((t) => t.toLowerCase()));
    this.#ctx = this.#context(clock, logger);
    this.#core = new UaCore(this.#ctx, {
      handlerFor: (m) => this.#handlers.get(m) ?? this.#handlers.get('*'),
      supported: this.#supported,
      announceRequest: (r) => this.emit('request', r),
      announceCancel: (r, c) => this.emit('cancel', r, c),
    });
    // Attached: the host's dispatcher hands us what we own (ownsRequest, ownsResponse).
    if (!this.#attached) {
      this.transactions.setUser(this.#core);
      this.transport.onMessage((m) => this.transactions.receive(m));
    }
    this.setListenerErrorHandler((err, event) =>
      logger.error({ err, event }, 'endpoint listener threw'),
    );
  }

  /** Opens the listening points of the options (attached: the host's are used as they are). */
  async listen(): Promise<readonly ListeningPoint[]> {
    if (this.#attached) return this.transport.listeningPoints();
    if (this.#options.listen.length === 0) throw argumentError('listen needs at least one point');
    for (const spec of this.#options.listen) await this.transport.listen(spec);
    return this.transport.listeningPoints();
  }

  listeningPoints(): readonly ListeningPoint[] {
    return this.transport.listeningPoints();
  }

  /** Our Contact URI for messages over `protocol` (default: the first listening point's). */
  contactUri(protocol?: TransportProtocol): string {
    return this.#ctx.contact.uri(protocol ?? this.listeningPoints()[0]?.protocol ?? 'udp');
  }

  /** Dialogs currently open (early and confirmed). */
  get sessions(): readonly DialogSession[] {
    return [...this.#sessions.values()];
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The endpoint shares a host's transport and transaction layer (see `attachEndpoint`). */
  get attached(): boolean {
    return this.#attached;
  }

  /** The endpoint's UA core: an attached endpoint's host passes it what the endpoint owns. */
  get transactionUser(): TransactionUser {
    return this.#core;
  }

  /** A request or ACK in one of our dialogs, or the CANCEL of an INVITE we serve. */
  ownsRequest(request: SipRequest): boolean {
    return this.#core.ownsRequest(request);
  }

  /** A stray 2xx (retransmission) of one of our INVITEs. */
  ownsResponse(response: SipResponse): boolean {
    return this.#core.ownsResponse(response);
  }

  /**
   * Takes over a new request the host's transaction user received (e.g. a proxy delegating a call):
   * answered through the returned IncomingRequest; no `request` event or handler runs. Undefined
   * when the endpoint answered it already (closed → 503, unsupported Require → 420).
   */
  adopt(tx: ServerTransaction, incoming: IncomingMessage): IncomingRequest | undefined {
    return this.#core.adopt(tx, incoming);
  }

  /**
   * Handles out-of-dialog requests of `method` ('*' for any method without its own handler).
   * Without a handler: OPTIONS → 200 with Allow, a known method → 405, an unknown one → 501.
   */
  onRequest(method: string, handler: RequestHandler): this {
    this.#handlers.set(method.toUpperCase(), handler);
    return this;
  }

  offRequest(method: string): this {
    this.#handlers.delete(method.toUpperCase());
    return this;
  }

  /** Sends an out-of-dialog non-INVITE request; resolves with its final response. */
  async request(options: RequestOptions): Promise<SipResponse> {
    const method = options.method.toUpperCase();
    if (method === 'INVITE') throw argumentError('use invite() for INVITE');
    if (method === 'ACK' || method === 'CANCEL')
      throw argumentError(`${method} is sent by the endpoint itself`);
    this.#assertOpen();
    const request = this.#build(method, options);
    const target = await this.#targetFor(request, options);
    this.#setContact(request, options, target.protocol);
    return sendClientRequest(this.#ctx, request, target, {
      credentials: options.credentials,
      onProvisional: options.onProvisional,
    });
  }

  /** Sends an INVITE. Await the result for `{ dialog, response }`; `cancel()` it while ringing. */
  invite(options: InviteOptions): OutgoingInvite {
    this.#assertOpen();
    const request = this.#build('INVITE', options);
    const invite = new OutgoingInvite(this.#ctx, request, options);
    const target = this.#targetFor(request, options).then((t) => {
      this.#setContact(invite.request, options, t.protocol);
      return t;
    });
    invite.start(target);
    return invite;
  }

  /**
   * Stops the endpoint: pending requests reject with SIP_ERR_ENDPOINT_CLOSED, dialogs end with
   * reason 'closed' (no BYE is sent), transactions stop, sockets close. An attached endpoint leaves
   * the shared layers open. Safe to call twice.
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing;
    this.#closed = true;
    for (const fn of [...this.#closeHandlers]) fn();
    this.#closeHandlers.clear();
    for (const s of [...this.#sessions.values()]) s.end('closed');
    this.#core.clear();
    if (this.#attached) {
      this.#closing = Promise.resolve();
      return this.#closing;
    }
    this.transactions.dispose();
    this.#closing = this.transport.close();
    return this.#closing;
  }

  #assertOpen(): void {
    if (this.#closed) throw new EndpointError(EndpointErrorCode.Closed, 'endpoint closed');
  }

  /** A Call-ID for a new call or registration started here (the `callId` option, if given). */
  newCallId(): string {
    return this.#options.callId?.() ?? generateCallId();
  }

  #build(method: string, options: Omit<RequestOptions, 'method'>): SipRequest {
    const headers: Record<string, string | readonly string[]> = { ...options.headers };
    if (this.#options.userAgent !== undefined && headers['User-Agent'] === undefined)
      headers['User-Agent'] = this.#options.userAgent;
    const from =
      options.from ?? this.#options.from ?? `<sip:anonymous@${this.#ctx.contact.host('udp')}>`;
    return createRequest({
      method,
      uri: options.uri,
      from: withFromTag(from),
      to: options.to ?? `<${options.uri}>`,
      callId: options.callId ?? this.newCallId(),
      cseq: options.cseq ?? 1,
      ...(options.route === undefined ? {} : { route: options.route }),
      ...(options.maxForwards === undefined ? {} : { maxForwards: options.maxForwards }),
      headers,
      ...(options.body === undefined ? {} : { body: options.body }),
      ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    });
  }

  /** RFC 3261 §8.1.2: the first Route (pre-loaded route set) or the Request-URI, unless given. */
  #targetFor(request: SipRequest, options: Omit<RequestOptions, 'method'>): Promise<Target> {
    if (options.target !== undefined) return Promise.resolve(options.target);
    const first = request.routes[0];
    return this.#ctx.nextHop.resolve(first?.uri ?? request.uri);
  }

  #setContact(
    request: SipRequest,
    options: Omit<RequestOptions, 'method'>,
    protocol: TransportProtocol,
  ): void {
    if (options.contact === false) return;
    if (typeof options.contact === 'string') request.headers.set('Contact', options.contact);
    else if (CONTACT_METHODS.has(request.method))
      request.headers.set('Contact', this.#ctx.contact.header(protocol));
  }

  #allow(): string {
    const methods = new Set(['OPTIONS', ...this.#handlers.keys()]);
    methods.delete('*');
    if (methods.has('INVITE') || this.#sessions.size > 0)
      for (const m of ['ACK', 'CANCEL', 'BYE']) methods.add(m);
    return [...methods].join(', ');
  }

  #context(clock: EndpointContext['clock'], logger: EndpointLogger): EndpointContext {
    const points = (): readonly ListeningPoint[] => this.transport.listeningPoints();
    const options = this.#options;
    const isClosed = (): boolean => this.#closed;
    return {
      transport: this.transport,
      transactions: this.transactions,
      clock,
      timers:
        options.timers === undefined && this.#attached
          ? this.transactions.timers
          : resolveTimers(options.timers),
      logger,
      contact: new LocalContact(points, { host: options.contactHost, user: options.contactUser }),
      nextHop: new NextHop({
        points,
        flow: (id) => this.transport.flow(id),
        resolver: options.resolver,
      }),
      digest: new DigestClient(),
      dialogs: this.dialogs,
      userAgent: options.userAgent,
      credentials: options.credentials,
      get closed() {
        return isClosed();
      },
      allow: () => this.#allow(),
      onClose: (fn) => {
        this.#closeHandlers.add(fn);
        return () => this.#closeHandlers.delete(fn);
      },
      addSession: (s) => {
        this.dialogs.add(s.dialog);
        this.#sessions.set(s.dialog, s);
        this.emit('dialog', s);
      },
      removeSession: (s) => {
        if (this.#sessions.get(s.dialog) === s) this.#sessions.delete(s.dialog);
        this.dialogs.delete(s.dialog);
      },
      sessionFor: (d) => this.#sessions.get(d),
      sendStateless: (message: SipMessage, target: Target) => {
        this.transport.send(message, target).catch((err: unknown) => {
          logger.debug({ err, target }, 'stateless send failed');
        });
      },
      inviteAnswered: (r) => this.#core.inviteAnswered(r),
      handlerFailed: (r, err) => {
        logger.error({ err, method: r.method, callId: r.request.callId }, 'request handler failed');
        this.emit('error', err, r);
        if (!r.responded) r.respond(500);
      },
    };
  }
}

/** Creates an endpoint and opens its listening points. */
export async function createEndpoint(options: EndpointOptions): Promise<SipEndpoint> {
  const endpoint = new SipEndpoint(options);
  try {
    await endpoint.listen();
  } catch (err) {
    await endpoint.close();
    throw err;
  }
  return endpoint;
}

/**
 * An endpoint on a host's transport and transaction layer (a B2BUA inside a proxy node). It opens
 * no listening point and does not become the layer's transaction user: the host's dispatcher
 * passes it the requests, ACKs and stray responses it owns (`ownsRequest`, `ownsResponse`) through
 * `transactionUser`, and new requests through `adopt`. Closing it leaves the shared layers open.
 */
export function attachEndpoint(options: AttachEndpointOptions): SipEndpoint {
  const { transport, transactions, ...rest } = options;
  return new SipEndpoint({ ...rest, listen: [] }, { transport, transactions });
}
