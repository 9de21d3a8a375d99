/** Two endpoints on loopback, and small waits on typed events, for the Endpoint API tests. */
import { createEndpoint } from '../../src/endpoint/sip-endpoint.js';
import type { SipEndpoint } from '../../src/endpoint/sip-endpoint.js';
import type { EndpointOptions } from '../../src/endpoint/endpoint-options.js';
import type { TransportProtocol } from '../../src/transport/transport.js';
import type { EventMap, TypedEmitter } from '../../src/endpoint/typed-emitter.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function startEndpoint(
  t: Teardown,
  protocol: TransportProtocol,
  extra: Partial<EndpointOptions> = {},
): Promise<SipEndpoint> {
  const ep = await createEndpoint({
    listen: [{ protocol, address: '127.0.0.1', port: 0 }],
    ...extra,
  });
  t.teardown(() => ep.close());
  return ep;
}

export async function endpointPair(
  t: Teardown,
  protocol: TransportProtocol,
  extra: { a?: Partial<EndpointOptions>; b?: Partial<EndpointOptions> } = {},
): Promise<{ a: SipEndpoint; b: SipEndpoint }> {
  const a = await startEndpoint(t, protocol, extra.a);
  const b = await startEndpoint(t, protocol, extra.b);
  return { a, b };
}

/** `sip:user@127.0.0.1:port[;transport=x]` of the endpoint's first listening point. */
export function uriOf(ep: SipEndpoint, user: string): string {
  const lp = ep.listeningPoints()[0];
  if (lp === undefined) throw new Error('endpoint has no listening point');
  const param = lp.protocol === 'udp' ? '' : `;transport=${lp.protocol}`;
  return `sip:${user}@${lp.local.address}:${lp.local.port}${param}`;
}

/** The arguments of the next `event`; the deadline only stops a broken test from hanging. */
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
