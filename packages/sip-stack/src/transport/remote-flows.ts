/**
 * Hooks for running one SIP edge in several processes (the workers of a `node:cluster`): a
 * dispatch that may hand raw received bytes to another process before parsing, and stream
 * flows held by another process that sends still reach (DESIGN.md "Use both cores").
 */
import { normaliseAddress } from './ip-address.js';
import { TRANSPORT_PROTOCOLS } from './transport.js';
import type { Flow, TransportProtocol } from './transport.js';

/**
 * Called with every received message's bytes (a datagram, a framed stream message, a WebSocket
 * message) and its flow, before parsing. 'handled' means another process took the bytes (it
 * will call `injectReceived`); 'local' processes them here.
 */
export type InboundDispatch = (bytes: Buffer, flow: Flow) => 'local' | 'handled';

/** Stream connections held by other processes. */
export interface RemoteFlows {
  /** Whether this flow id, not open here, names a connection another process holds. */
  isRemote(flowId: string): boolean;
  /** Writes serialised bytes on that connection in the process holding it. */
  write(flowId: string, bytes: Buffer): Promise<void>;
}

const FLOW_ID =
  /^([a-z]+):(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)->(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d+)/;

function hostOf(s: string): string {
  return normaliseAddress(s.startsWith('[') ? s.slice(1, -1) : s);
}

/**
 * The flow a flow id names ("tcp:10.0.0.1:5060->10.0.0.2:40312#17" with any suffix), or
 * undefined when the text is not a flow id.
 */
export function parseFlowId(flowId: string): Flow | undefined {
  const m = FLOW_ID.exec(flowId);
  if (m === null) return undefined;
  const protocol = m[1] as TransportProtocol;
  if (!TRANSPORT_PROTOCOLS.includes(protocol)) return undefined;
  return {
    protocol,
    local: { address: hostOf(m[2] ?? ''), port: Number(m[3]) },
    remote: { address: hostOf(m[4] ?? ''), port: Number(m[5]) },
    flowId,
  };
}

/** Whether messages of this protocol are whole datagrams (UDP, WebSocket) rather than stream-framed. */
export function isDatagramProtocol(protocol: TransportProtocol): boolean {
  return protocol !== 'tcp' && protocol !== 'tls';
}
