/**
 * Where a request goes: an explicit target, an open stream flow of the dialog, an IP literal URI,
 * or RFC 3263 resolution of a host name.
 */
import { SipResolver } from '../dns/sip-resolver.js';
import { isSipUri, parseUri } from '../message/sip-uri.js';
import type { SipUri } from '../message/sip-uri.js';
import { ipFamily, normaliseAddress, sameAddress } from '../transport/ip-address.js';
import { DEFAULT_PORTS, isStreamProtocol } from '../transport/transport.js';
import type { Flow, ListeningPoint, Target, TransportProtocol } from '../transport/transport.js';
import { EndpointError, EndpointErrorCode } from './endpoint-error.js';

const PROTOCOLS: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

export interface NextHopContext {
  points(): readonly ListeningPoint[];
  /** The open stream flow with this id, if any. */
  flow(flowId: string): Flow | undefined;
  resolver?: SipResolver | undefined;
}

function noTarget(reason: string): EndpointError {
  return new EndpointError(EndpointErrorCode.NoTarget, reason);
}

/** Target of a stream flow (sending pinned to it). */
export function flowTarget(flow: Flow): Target | undefined {
  if (!isStreamProtocol(flow.protocol) || flow.flowId === undefined) return undefined;
  return {
    protocol: flow.protocol,
    address: flow.remote.address,
    port: flow.remote.port,
    flowId: flow.flowId,
  };
}

export class NextHop {
  readonly #ctx: NextHopContext;
  #resolver: SipResolver | undefined;

  constructor(ctx: NextHopContext) {
    this.#ctx = ctx;
    this.#resolver = ctx.resolver;
  }

  /**
   * The target for `uri` (the first Route, else the Request-URI). A still-open stream `flow` the
   * dialog was made on is preferred when the URI names no address of its own or names the flow's
   * peer (RFC 5626 §5.3, RFC 7118 §5: a WebSocket client is reachable only over its connection).
   */
  async resolve(uri: string, flow?: Target): Promise<Target> {
    const parsed = this.#parse(uri);
    const literal = this.#literal(parsed);
    if (flow?.flowId !== undefined && this.#ctx.flow(flow.flowId) !== undefined) {
      if (literal === undefined || sameEndpoint(literal, flow)) return flow;
    }
    if (literal !== undefined) return literal;
    // RFC 6761 §6.4: .invalid names never resolve (WebSocket clients use them in Contact).
    if (parsed.host.toLowerCase().endsWith('.invalid'))
      throw noTarget(`${uri} can only be reached over the flow it registered or called from`);
    const found = await this.#resolverFor().resolve(parsed);
    const first = found[0];
    if (first === undefined) throw noTarget(`RFC 3263 resolution of ${uri} found no target`);
    const t: Target = { protocol: first.protocol, address: first.address, port: first.port };
    if (first.serverName !== undefined) t.serverName = first.serverName;
    return t;
  }

  #parse(uri: string): SipUri {
    const p = parseUri(uri);
    if (!p.ok) throw noTarget(`cannot parse URI ${uri}: ${p.reason}`);
    if (!isSipUri(p.uri)) throw noTarget(`cannot route to a ${p.uri.scheme} URI`);
    return p.uri;
  }

  /** RFC 3263 §4.1/§4.2: an IP literal host needs no DNS; transport from the URI or the default. */
  #literal(u: SipUri): Target | undefined {
    if (ipFamily(u.host) === 0) return undefined;
    const protocol = this.#protocolOf(u);
    return { protocol, address: normaliseAddress(u.host), port: u.port ?? DEFAULT_PORTS[protocol] };
  }

  #protocolOf(u: SipUri): TransportProtocol {
    const transport = u.params.get('transport')?.toLowerCase();
    const secure = u.scheme === 'sips';
    if (transport === 'ws' || transport === 'wss') return secure ? 'wss' : transport;
    if (transport === 'tls' || (transport === 'tcp' && secure)) return 'tls';
    if (transport === 'tcp') return 'tcp';
    if (secure) return 'tls';
    // RFC 3263 §4.1: UDP unless we have no UDP listening point to send from.
    return this.#ctx.points().some((p) => p.protocol === 'udp') || transport === 'udp'
      ? 'udp'
      : 'tcp';
  }

  #resolverFor(): SipResolver {
    if (this.#resolver === undefined) {
      const hasUdp = this.#ctx.points().some((p) => p.protocol === 'udp');
      this.#resolver = new SipResolver({
        protocols: PROTOCOLS.filter((p) => p !== 'udp' || hasUdp),
      });
    }
    return this.#resolver;
  }
}

function sameEndpoint(a: Target, b: Target): boolean {
  return a.protocol === b.protocol && a.port === b.port && sameAddress(a.address, b.address);
}
