/**
 * The registrar (RFC 3261 §10.3 with RFC 3327 Path and RFC 5626 outbound). `handle()` turns a
 * REGISTER and the flow it came on into the response to send; it never throws. Changes of the
 * location service and of reachability come out as typed `RegistrarEvents`.
 */
import {
  TypedEmitter,
  createResponse,
  isSipUri,
  parseNameAddr,
  parseUri,
  type Flow,
  type SipRequest,
  type SipResponse,
} from '@switchboard/sip-stack';
import { remainingSeconds, type AuthIdentity, type Binding } from '../location/binding.js';
import type {
  ApplyResult,
  BindingChange,
  LocationService,
  RemovalReason,
} from '../location/location-service.js';
import { ReachabilityMonitor } from '../reachability/reachability-monitor.js';
import { wallClock } from '../util/wall-clock.js';
import { canonicalAor, type Aor } from './aor.js';
import { openAorPolicy, type AorDecision, type AorPolicy } from './aor-policy.js';
import { BindingBuilder, type BindingRequest } from './binding-builder.js';
import {
  hasOptionTag,
  readContacts,
  type ExpiryLimits,
  type RequestedContact,
} from './register-contacts.js';
import {
  sameUser,
  type AuthOutcome,
  type RegistrarAuthenticator,
} from './registrar-authenticator.js';
import {
  REGISTRAR_OPTION_TAGS,
  type RegistrarEvents,
  type RegistrarOptions,
} from './registrar-options.js';

type Headers = Record<string, string | string[]>;

const SUPPORTED = REGISTRAR_OPTION_TAGS.join(', ');

/** A value now, or a promise of it. */
type Awaitable<T> = T | PromiseLike<T>;

/** What authentication leaves: the identity, or the response to send now. */
type Denied = { response: SipResponse } | { identity: AuthIdentity | undefined };

const NO_IDENTITY: Denied = Object.freeze({ identity: undefined });

/** A thenable: awaited only then, so an immediate answer costs no microtask turn. */
function isPromise<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return (
    typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
  );
}

/** RFC 5626 §5.1: the edge proxy marks its Path URI with 'ob'. */
function pathHasOb(value: string | undefined): boolean {
  if (value === undefined) return false;
  const n = parseNameAddr(value);
  if (!n.ok) return false;
  const u = parseUri(n.value.uri);
  return u.ok && isSipUri(u.uri) && u.uri.params.has('ob');
}

export class Registrar extends TypedEmitter<RegistrarEvents> {
  readonly location: LocationService;
  readonly #options: RegistrarOptions;
  readonly #policy: AorPolicy;
  readonly #limits: ExpiryLimits;
  readonly #monitor: ReachabilityMonitor | undefined;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #builder: BindingBuilder;
  #dateSecond = -1;
  #dateText = '';
  #closed = false;

  constructor(options: RegistrarOptions) {
    super();
    this.#options = options;
    this.location = options.location;
    this.#policy = options.policy ?? openAorPolicy;
    this.#limits = {
      defaultExpires: options.defaultExpires ?? 3600,
      minExpires: options.minExpires ?? 60,
      maxExpires: options.maxExpires ?? 7200,
    };
    this.setListenerErrorHandler((err, event) =>
      options.logger?.error({ err, event }, 'registrar listener threw'),
    );
    this.#builder = new BindingBuilder({
      nat: options.nat ?? 'auto',
      flowKey: (flowId) => this.#flowKey(flowId),
    });
    this.#forwardLocationEvents();
    if (options.reachability !== undefined) {
      const monitor = new ReachabilityMonitor({
        ...options.reachability,
        location: options.location,
        clock: options.clock ?? wallClock,
      });
      monitor.on('reachable', (b) => this.emit('reachable', b));
      monitor.on('unreachable', (b, reason) => this.emit('unreachable', b, reason));
      this.#monitor = monitor;
    }
  }

  /** The reachability monitor, when configured. */
  get reachability(): ReachabilityMonitor | undefined {
    return this.#monitor;
  }

  /** Starts qualify and keep-alive timers (when configured). */
  start(): void {
    this.#monitor?.start();
  }

  /** Stops timers and event forwarding; the location service stays open (its owner closes it). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#monitor?.stop();
    for (const off of this.#unsubscribe.splice(0)) off();
  }

  /** Live bindings of an AOR given as a URI (`sip:1002@a.example`) or a key (`1002@a.example`). */
  async lookup(aor: string): Promise<Binding[]> {
    const key = /^sips?:/i.test(aor) ? canonicalAor(aor) : canonicalAor(`sip:${aor}`);
    return key.ok ? this.location.lookup(key.aor.key) : [];
  }

  /** Drops the bindings that die with this flow (RFC 5626 §6: wire to TransportLayer.onFlowClosed). */
  async flowClosed(flow: Flow): Promise<Binding[]> {
    if (flow.flowId === undefined) return [];
    return this.location.removeByFlow(this.#flowKey(flow.flowId));
  }

  /** Answers a REGISTER. Never throws: a failure of the location service gives 500. */
  handle(request: SipRequest, flow: Flow): Promise<SipResponse> {
    let response: Awaitable<SipResponse>;
    try {
      // Every step answers at once when its collaborators do (in-memory location, a policy or
      // authenticator with the answer at hand): a promise only where one is really waited for.
      response = this.#process(request, flow);
    } catch (err) {
      return Promise.resolve(this.#failed(request, err));
    }
    if (!isPromise(response)) return Promise.resolve(response);
    return Promise.resolve(response).then(undefined, (err: unknown) => this.#failed(request, err));
  }

  #failed(request: SipRequest, err: unknown): SipResponse {
    this.#options.logger?.error({ err, callId: request.callId }, 'REGISTER processing failed');
    // RFC 3261 §10.3 step 7: a failed commit is answered 500
    return this.#reply(request, 500, 'Server Internal Error');
  }

  #process(request: SipRequest, flow: Flow): Awaitable<SipResponse> {
    if (request.method !== 'REGISTER')
      return this.#reply(request, 405, undefined, { Allow: 'REGISTER' });
    const ruri = request.requestUri;
    if (!isSipUri(ruri)) return this.#reply(request, 416);
    const domain = ruri.host.toLowerCase();
    // RFC 3261 §10.3 step 1: only domains whose bindings we hold
    const serves = this.#policy.servesDomain(domain);
    if (isPromise(serves)) return serves.then((s) => this.#served(s, request, flow, domain));
    return this.#served(serves, request, flow, domain);
  }

  #served(
    serves: boolean,
    request: SipRequest,
    flow: Flow,
    domain: string,
  ): Awaitable<SipResponse> {
    if (!serves) return this.#reply(request, 404, 'Domain Not Served');
    // §10.3 step 2: Require processed as a UAS does (§8.2.2.3)
    if (request.headers.has('Require')) {
      const unsupported = request.headers
        .values('Require')
        .map((t) => t.trim())
        .filter((t) => t !== '' && !REGISTRAR_OPTION_TAGS.includes(t.toLowerCase()));
      if (unsupported.length > 0)
        return this.#reply(request, 420, undefined, { Unsupported: unsupported });
    }
    // §10.3 step 5 (parsed here; checked after authentication so users cannot be probed)
    const parsedAor = canonicalAor(request.to.uri);
    if (!parsedAor.ok) return this.#reply(request, 404, 'Not Found');
    const aor = parsedAor.aor;
    const denied = this.#authenticate(request, flow, domain, aor);
    if (isPromise(denied))
      return denied.then((d) => this.#authorized(d, request, flow, domain, aor));
    return this.#authorized(denied, request, flow, domain, aor);
  }

  #authorized(
    denied: Denied,
    request: SipRequest,
    flow: Flow,
    domain: string,
    aor: Aor,
  ): Awaitable<SipResponse> {
    if ('response' in denied) return denied.response;
    const ctx: BindingRequest = {
      request,
      flow,
      aor,
      identity: denied.identity,
      path: request.headers.has('Path') ? request.headers.values('Path') : [],
    };
    const checked = this.#policy.checkAor(aor, domain);
    if (isPromise(checked)) return checked.then((d) => this.#allowed(d, ctx));
    return this.#allowed(checked, ctx);
  }

  #allowed(decision: AorDecision, ctx: BindingRequest): Awaitable<SipResponse> {
    if (!decision.ok) return this.#reply(ctx.request, decision.status, decision.reason);
    return this.#register(ctx);
  }

  /** §10.3 steps 3–4; `{ response }` when the request must be answered now. */
  #authenticate(request: SipRequest, flow: Flow, domain: string, aor: Aor): Awaitable<Denied> {
    const auth = this.#options.authenticator;
    if (auth === undefined) return NO_IDENTITY;
    const outcome = auth.authenticate(request, { domain, flow });
    if (isPromise(outcome)) return outcome.then((o) => this.#authorize(auth, o, request, aor));
    return this.#authorize(auth, outcome, request, aor);
  }

  #authorize(
    auth: RegistrarAuthenticator,
    outcome: AuthOutcome,
    request: SipRequest,
    aor: Aor,
  ): Awaitable<Denied> {
    if (!outcome.ok) {
      if ('response' in outcome) return { response: outcome.response };
      return { response: this.#reply(request, outcome.status, outcome.reason, outcome.headers) };
    }
    // §10.3 step 4: the authenticated user must be allowed to modify this AOR's bindings
    const identity = outcome.identity;
    const allowing = auth.authorize?.(identity, aor) ?? sameUser(identity, aor);
    if (isPromise(allowing)) return allowing.then((a) => this.#permitted(a, identity, request));
    return this.#permitted(allowing, identity, request);
  }

  #permitted(allowed: boolean, identity: AuthIdentity, request: SipRequest): Denied {
    return allowed ? { identity } : { response: this.#reply(request, 403, 'Forbidden') };
  }

  #register(ctx: BindingRequest): Awaitable<SipResponse> {
    const { request } = ctx;
    const read = readContacts(request, this.#limits, this.#options.outbound !== false);
    if (!read.ok) return this.#reply(request, read.status, read.reason, read.headers);
    if (!read.star && read.outbound && request.via.length > 1) {
      // RFC 5626 §6: not the first hop and no edge proxy with 'ob' in Path → 439
      if (!pathHasOb(ctx.path[0]))
        return this.#reply(request, 439, 'First Hop Lacks Outbound Support');
    }
    if (!read.star && read.contacts.length === 0) {
      // §10.3 step 8 without changes: a query
      return this.location.lookup(ctx.aor.key).then((b) => this.#ok(ctx, b, false));
    }
    const change: BindingChange = {
      aor: ctx.aor.key,
      callId: request.callId,
      cseq: request.cseq.seq,
      ops: read.star ? [] : read.contacts.map((c) => this.#op(ctx, c)),
      maxBindings: this.#options.maxBindingsPerAor ?? 10,
      ...(read.star ? { removeAll: true } : {}),
    };
    const outbound = !read.star && read.outbound;
    const location = this.location;
    // An in-memory location service applies at once (LocationService.applyNow).
    if (location.applyNow !== undefined)
      return this.#applied(ctx, location.applyNow(change), outbound);
    return location.apply(change).then((r) => this.#applied(ctx, r, outbound));
  }

  #applied(ctx: BindingRequest, result: ApplyResult, outbound: boolean): SipResponse {
    if (!result.ok) {
      // §10.3 steps 6-7: an older or repeated CSeq for the same Call-ID fails the whole request
      if (result.code === 'LOC_ERR_OUT_OF_ORDER')
        return this.#reply(ctx.request, 500, 'Out of Order CSeq');
      return this.#reply(ctx.request, 403, 'Too Many Registrations');
    }
    return this.#ok(ctx, result.bindings, outbound);
  }

  #op(ctx: BindingRequest, c: RequestedContact): BindingChange['ops'][number] {
    if (c.expires === 0) return { kind: 'remove', key: c.key };
    const now = (this.#options.clock ?? wallClock).now();
    return { kind: 'upsert', binding: this.#builder.build(ctx, c, now) };
  }

  /** §10.3 step 8: 200 listing every binding with its remaining time, and a Date. */
  #ok(ctx: BindingRequest, bindings: readonly Binding[], outbound: boolean): SipResponse {
    const now = (this.#options.clock ?? wallClock).now();
    const headers: Headers = {};
    if (bindings.length > 0)
      headers['Contact'] = bindings.map((b) => `${b.contact};expires=${remainingSeconds(b, now)}`);
    headers['Date'] = this.#date();
    // RFC 3327 §5.3: the Path of the request echoed when the UA supports path
    if (ctx.path.length > 0 && hasOptionTag(ctx.request, 'Supported', 'path'))
      headers['Path'] = ctx.path;
    if (outbound) {
      // RFC 5626 §6: Require: outbound confirms the flow; Flow-Timer (§4.4.1) for stream flows we are the edge of
      headers['Require'] = 'outbound';
      const timer = this.#options.flowTimer ?? 120;
      if (timer > 0 && ctx.path.length === 0 && ctx.flow.protocol !== 'udp')
        headers['Flow-Timer'] = String(timer);
    }
    headers['Supported'] = SUPPORTED;
    return this.#reply(ctx.request, 200, undefined, headers);
  }

  /** RFC 3261 §20.17 Date (one-second resolution): formatted once per second. */
  #date(): string {
    const date = this.#options.date;
    if (date !== undefined) return date().toUTCString();
    const now = Date.now();
    const second = Math.floor(now / 1000);
    if (second !== this.#dateSecond) {
      this.#dateSecond = second;
      this.#dateText = new Date(now).toUTCString();
    }
    return this.#dateText;
  }

  #reply(request: SipRequest, status: number, reason?: string, headers: Headers = {}): SipResponse {
    const server = this.#options.serverHeader;
    const all: Headers = server === undefined ? headers : { ...headers, Server: server };
    return createResponse(request, status, reason, { headers: all });
  }

  #flowKey(flowId: string): string {
    return `${this.#options.nodeId ?? 'local'}|${flowId}`;
  }

  #forwardLocationEvents(): void {
    const loc = this.location;
    const added = (b: Binding): void => void this.emit('registered', b);
    const refreshed = (b: Binding, prev: Binding): void => void this.emit('refreshed', b, prev);
    const removed = (b: Binding, reason: RemovalReason): void =>
      void this.emit('unregistered', b, reason);
    const expired = (b: Binding): void => void this.emit('expired', b);
    loc.on('added', added).on('refreshed', refreshed).on('removed', removed).on('expired', expired);
    this.#unsubscribe.push(() =>
      loc
        .off('added', added)
        .off('refreshed', refreshed)
        .off('removed', removed)
        .off('expired', expired),
    );
  }
}
