/**
 * The flows of one UDP listening socket, one per remote endpoint and shared by every datagram
 * to or from it. A flow is named by (socket, remote) alone (RFC 5626 §3.2 for UDP), so every
 * message of a call carries the same frozen object instead of a new flow, endpoint and id string
 * each: less to allocate per datagram and far less for the transactions that keep a flow for
 * 32 s (RFC 3261 §17) to hold on to.
 */
import { makeFlowId } from './connection.js';
import { normaliseAddress } from './ip-address.js';
import type { Endpoint, Flow } from './transport.js';

/** Remotes remembered per socket; past this many the cache starts over (bounded memory). */
export const MAX_UDP_FLOWS = 4096;

export class UdpFlows {
  readonly #local: Endpoint;
  /** address as given (rinfo's text, or a normalised target address) → port → flow. */
  readonly #byAddress = new Map<string, Map<number, Flow>>();
  #count = 0;

  constructor(local: Endpoint) {
    this.#local = local;
  }

  /** How many flows are cached. */
  get size(): number {
    return this.#count;
  }

  /**
   * The flow between this socket and `address`:`port`. `address` is normalised for the flow
   * (the cache is keyed by the text given, so a received rinfo address needs no work per
   * datagram).
   */
  get(address: string, port: number): Flow {
    let byPort = this.#byAddress.get(address);
    const known = byPort?.get(port);
    if (known !== undefined) return known;
    if (this.#count >= MAX_UDP_FLOWS) {
      // (many remotes, e.g. a scan: forget them all rather than track recency per datagram)
      this.#byAddress.clear();
      this.#count = 0;
      byPort = undefined;
    }
    if (byPort === undefined) {
      byPort = new Map();
      this.#byAddress.set(address, byPort);
    }
    const local = this.#local;
    const remote: Endpoint = Object.freeze({ address: normaliseAddress(address), port });
    const flow: Flow = Object.freeze({
      protocol: 'udp',
      local,
      remote,
      flowId: makeFlowId('udp', local, remote),
    });
    byPort.set(port, flow);
    this.#count++;
    return flow;
  }
}
