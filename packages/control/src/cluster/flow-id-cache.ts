/**
 * The flows named by the flow ids other workers send with the bytes they hand over (`inbound`
 * mesh frames): one frozen Flow per id, so a handed-over datagram costs no regex match and no
 * new objects, and the transactions it starts share the flow object (as on the receiving socket,
 * see sip-stack's UdpFlows).
 */
import { parseFlowId, type Flow } from '@switchboard/sip-stack';

/** Ids remembered; past this many the cache starts over (bounded memory). */
export const MAX_FLOW_IDS = 4096;

export class FlowIdCache {
  readonly #flows = new Map<string, Flow>();

  get size(): number {
    return this.#flows.size;
  }

  /** The flow a flow id names, or undefined when the text is not a flow id (not cached). */
  get(flowId: string): Flow | undefined {
    const known = this.#flows.get(flowId);
    if (known !== undefined) return known;
    const parsed = parseFlowId(flowId);
    if (parsed === undefined) return undefined;
    if (this.#flows.size >= MAX_FLOW_IDS) this.#flows.clear();
    const flow: Flow = Object.freeze({
      ...parsed,
      local: Object.freeze(parsed.local),
      remote: Object.freeze(parsed.remote),
    });
    this.#flows.set(flowId, flow);
    return flow;
  }
}
