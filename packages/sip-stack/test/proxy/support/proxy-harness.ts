/** A Proxy on real UDP (and TCP) listening points on 127.0.0.1, on the test's clock. */
import type { SipRequest } from '../../../src/message/sip-message.js';
import { SipProxy } from '../../../src/proxy/proxy.js';
import type { ProxyOptions } from '../../../src/proxy/proxy-options.js';
import type { RouteDecision, RouteFunction } from '../../../src/proxy/route-decision.js';
import { TransactionLayer } from '../../../src/transaction/transaction-layer.js';
import { TransportLayer } from '../../../src/transport/transport-layer.js';
import type { Target, TransportProtocol } from '../../../src/transport/transport.js';
import type { Clock } from '../../../src/util/clock.js';

export interface ProxyHarness {
  proxy: SipProxy;
  transport: TransportLayer;
  layer: TransactionLayer;
  /** Requests the routing callback saw. */
  routed: SipRequest[];
  target(protocol?: TransportProtocol): Target;
  /** The proxy's own URI (host:port of a listening point). */
  uri(protocol?: TransportProtocol, user?: string): string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  clock: Clock;
  protocols?: readonly TransportProtocol[];
  /** Default: forward to the Request-URI. */
  route?: RouteFunction;
  options?: Partial<Omit<ProxyOptions, 'transactions' | 'transport' | 'route'>>;
}

export const forwardToRequestUri: RouteFunction = (request) =>
  Promise.resolve<RouteDecision>({ action: 'forward', targets: [[{ uri: request.uri }]] });

export async function startProxy(h: HarnessOptions): Promise<ProxyHarness> {
  const transport = new TransportLayer({ clock: h.clock });
  for (const protocol of h.protocols ?? ['udp'])
    await transport.listen({ protocol, address: '127.0.0.1', port: 0 });
  const layer = new TransactionLayer({ transport, clock: h.clock });
  transport.onMessage((m) => layer.receive(m));
  const routed: SipRequest[] = [];
  const route = h.route ?? forwardToRequestUri;
  const proxy = new SipProxy({
    transactions: layer,
    transport,
    clock: h.clock,
    route: (request, ctx) => {
      routed.push(request);
      return route(request, ctx);
    },
    ...h.options,
  });
  const port = (protocol: TransportProtocol): number => {
    const lp = transport.listeningPoints().find((p) => p.protocol === protocol);
    if (lp === undefined) throw new Error(`proxy has no ${protocol} listening point`);
    return lp.local.port;
  };
  return {
    proxy,
    transport,
    layer,
    routed,
    target: (protocol = 'udp') => ({ protocol, address: '127.0.0.1', port: port(protocol) }),
    uri: (protocol = 'udp', user) =>
      `sip:${user === undefined ? '' : `${user}@`}127.0.0.1:${port(protocol)}` +
      (protocol === 'udp' ? '' : `;transport=${protocol}`),
    close: async () => {
      layer.dispose();
      await transport.close();
    },
  };
}
