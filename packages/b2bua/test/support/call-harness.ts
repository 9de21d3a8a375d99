/**
 * A B2BUA on a real loopback UDP endpoint with an in-memory relay, and sip-stack endpoints as the
 * parties (A calls, B and C answer). Waits on typed events with a deadline that only stops a
 * broken test from hanging.
 */
import { createEndpoint } from '@switchboard/sip-stack';
import type {
  Clock,
  EndpointOptions,
  EventMap,
  SipEndpoint,
  TypedEmitter,
} from '@switchboard/sip-stack';
import { B2bua } from '../../src/b2bua.js';
import type { Call } from '../../src/call/call.js';
import type { CallPlan } from '../../src/call/call-types.js';
import type { ChannelLimiter } from '../../src/trunk/channel-limiter.js';
import { FakeMediaRelay } from './fake-media-relay.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function party(
  t: Teardown,
  extra: Partial<EndpointOptions> = {},
): Promise<SipEndpoint> {
  const ep = await createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    ...extra,
  });
  t.teardown(() => ep.close());
  return ep;
}

export function uriOf(ep: SipEndpoint, user: string): string {
  const lp = ep.listeningPoints()[0];
  if (lp === undefined) throw new Error('endpoint has no listening point');
  return `sip:${user}@${lp.local.address}:${lp.local.port}`;
}

export interface Harness {
  b2bua: B2bua;
  endpoint: SipEndpoint;
  relay: FakeMediaRelay;
  /** URI that reaches the B2BUA. */
  uri: string;
  /** The calls the B2BUA started, in order. */
  calls: Call[];
}

export interface HarnessOptions {
  clock?: Clock;
  timers?: EndpointOptions['timers'];
  /** The plan for each INVITE (default: a plan set later through `setPlan`). */
  plan: (uri: string) => CallPlan;
}

export async function b2buaHarness(t: Teardown, options: HarnessOptions): Promise<Harness> {
  const endpoint = await party(t, {
    supported: ['timer', '100rel'],
    userAgent: 'switchboard-b2bua',
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.timers === undefined ? {} : { timers: options.timers }),
  });
  const relay = new FakeMediaRelay();
  const b2bua = new B2bua({
    endpoint,
    relay,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  });
  const calls: Call[] = [];
  b2bua.on('call', (c) => calls.push(c));
  b2bua.route((req) => options.plan(req.request.uri));
  return { b2bua, endpoint, relay, uri: uriOf(endpoint, 'b2bua'), calls };
}

/** The arguments of the next `event`. */
export function nextEvent<E extends EventMap, K extends keyof E>(
  emitter: TypedEmitter<E>,
  event: K,
  deadlineMs = 5000,
): Promise<E[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no '${String(event)}' event before the deadline`)),
      deadlineMs,
    );
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

/** Resolves when `check` is true, polling; the deadline only stops a broken test from hanging. */
export async function until(check: () => boolean, deadlineMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > deadlineMs) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets pending network events and promise callbacks run. */
export function settle(ms = 30): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface Failure {
  status: number | undefined;
  code: string | undefined;
  warning: string | undefined;
  retryAfter: string | undefined;
}

/** How a promise that must fail failed (an EndpointError's status, code and response headers). */
export async function failure(promise: PromiseLike<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (err) {
    const e = err as {
      status?: number;
      code?: string;
      response?: { headers: { get(n: string): string | undefined } };
    };
    return {
      status: e.status,
      code: e.code,
      warning: e.response?.headers.get('Warning'),
      retryAfter: e.response?.headers.get('Retry-After'),
    };
  }
  throw new Error('expected a failure');
}

/** The assertions `drained` makes (a tap Test has them). */
export interface Asserts {
  equal(found: unknown, wanted: unknown, message: string): unknown;
}

/**
 * After a scenario: no relay session open, no call live, no channel (admission slot) held. Waits
 * for asynchronous tear-down first; the assertions then fail on any leak.
 */
export async function drained(
  t: Asserts,
  h: Harness,
  channels: readonly ChannelLimiter[] = [],
): Promise<void> {
  const clean = (): boolean =>
    h.relay.openSessions === 0 &&
    h.b2bua.stats().active === 0 &&
    channels.every((c) => c.inUse === 0);
  await until(clean).catch(() => undefined);
  t.equal(h.relay.openSessions, 0, 'no relay session left open');
  t.equal(h.b2bua.stats().active, 0, 'no call left');
  t.equal(h.b2bua.stats().relaySessions, 0, 'no relay session held by a call');
  for (const c of channels) t.equal(c.inUse, 0, 'no channel left held');
}
