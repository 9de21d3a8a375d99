/**
 * What the proxy forwards without a transaction (RFC 3261 §16.11): the ACK for a 2xx (§16.6,
 * §13.2.2.4) and responses that match no client transaction (§16.7 item 1, RFC 6026 §8.4).
 */
import type { SipRequest, SipResponse } from '../message/sip-message.js';
import {
  DEFAULT_PORTS,
  protocolFromViaTransport,
  sendReported,
  viaTransportToken,
  type Target,
} from '../transport/transport.js';
import { ipFamily, normaliseAddress } from '../transport/ip-address.js';
import { PROXY_BRANCH_PREFIX, loopHash, statelessBranch } from './branch-id.js';
import { takeUriAlias } from './contact-alias.js';
import { DEFAULT_MAX_FORWARDS, postprocessRouting } from './forward-request.js';
import { nextHops } from './next-hop.js';
import { preprocessRoute } from './preprocess-route.js';
import type { ProxyEnv } from './proxy-env.js';
import { isLoop } from './validate-request.js';

export interface StatelessStats {
  acksForwarded: number;
  responsesForwarded: number;
  dropped: number;
}

/** RFC 3261 §18.2.2 / RFC 3581 §4: where a response goes, from its (new) top Via. */
export function viaResponseTarget(response: SipResponse): Target | undefined {
  const via = response.topVia;
  if (via === undefined) return undefined;
  const protocol = protocolFromViaTransport(via.transport);
  if (protocol === undefined) return undefined;
  const address = normaliseAddress(via.received ?? via.host);
  if (ipFamily(address) === 0) return undefined;
  const port = typeof via.rport === 'number' ? via.rport : (via.port ?? DEFAULT_PORTS[protocol]);
  return { protocol, address, port };
}

export class StatelessForwarder {
  readonly #env: ProxyEnv;
  readonly stats: StatelessStats = { acksForwarded: 0, responsesForwarded: 0, dropped: 0 };

  constructor(env: ProxyEnv) {
    this.#env = env;
  }

  /** The ACK for a 2xx: routed by its Route set, else by its Request-URI. */
  async forwardAck(ack: SipRequest): Promise<void> {
    const id = this.#env.identity;
    // RFC 3261 §16.3: an ACK that fails validation cannot be answered, only dropped.
    if (ack.maxForwards === 0 || isLoop(ack, id) || ack.headers.get('Via') === undefined)
      return this.#drop('ack invalid');
    const hash = loopHash(ack);
    const branch = statelessBranch(ack, hash);
    preprocessRoute(ack, id);
    // An ACK addressed to this proxy (no Route left, our Request-URI) ends here.
    if (!ack.headers.has('Route') && id.isLocalUri(ack.requestUri)) return this.#drop('ack for us');
    const mf = ack.maxForwards;
    ack.maxForwards = mf === undefined ? DEFAULT_MAX_FORWARDS : mf - 1;
    let nextHop = postprocessRouting(ack);
    // Kamailio handle_ruri_alias: the 2xx's Contact was aliased (UA behind NAT): go to the alias.
    const alias = nextHop === ack.uri ? takeUriAlias(ack.uri) : undefined;
    if (alias !== undefined) ack.uri = nextHop = alias.uri;
    const target = await nextHops(nextHop, alias?.target, undefined, () =>
      this.#env.resolver(),
    ).next();
    if (target === undefined) return this.#drop('ack: no next hop');
    // RFC 3261 §16.11: the same branch for every retransmission of this ACK.
    ack.headers.prepend(
      'Via',
      `SIP/2.0/${viaTransportToken(target.protocol)} 0.0.0.0;branch=${branch};rport`,
    );
    this.stats.acksForwarded++;
    this.#send(ack, target);
  }

  /** RFC 3261 §16.7 item 1 / §16.11: a response for no transaction goes on if its top Via is ours. */
  forwardResponse(response: SipResponse): void {
    const top = response.topVia;
    if (
      top?.branch?.startsWith(PROXY_BRANCH_PREFIX) !== true ||
      !this.#env.identity.isLocalVia(top)
    )
      return this.#drop('response not ours');
    response.headers.shiftValue('Via');
    const target = viaResponseTarget(response);
    if (target === undefined) return this.#drop('response: no Via to return to');
    this.stats.responsesForwarded++;
    this.#send(response, target);
  }

  /** Failures are logged by the env's stateless report. */
  #send(message: SipRequest | SipResponse, target: Target): void {
    sendReported(this.#env.transport, message, target, this.#env.statelessReport);
  }

  #drop(why: string): void {
    this.stats.dropped++;
    this.#env.logger?.debug({ why }, 'proxy: stateless message dropped');
  }
}
