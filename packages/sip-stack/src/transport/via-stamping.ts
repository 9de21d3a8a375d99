/**
 * Top-Via rewriting done by the transport: received/rport stamping of incoming requests
 * (RFC 3261 §18.2.1, RFC 3581 §4) and sent-by / transport filling of outgoing requests (§18.1.1).
 */
import type { SipMessage, SipRequest } from '../message/sip-message.js';
import { formatVia } from '../message/via.js';
import { valueEnd } from '../message/header-values.js';
import type { Via } from '../message/via.js';
import type { Endpoint, Flow, Target, TransportProtocol } from './transport.js';
import { DEFAULT_PORTS, protocolFromViaTransport, viaTransportToken } from './transport.js';
import { formatHostPort, ipFamily, normaliseAddress, sameAddress } from './ip-address.js';

/** Sent-by host a request carries until the transport fills it in. */
export const VIA_PLACEHOLDER_HOST = '0.0.0.0';

function copyVia(v: Via): Via {
  return { ...v, params: new Map(v.params) };
}

const RPORT_PARAM = /;\s*rport(?:\s*=\s*[0-9]*)?(?=\s*(?:;|$))/i;
const RECEIVED_PARAM = /;\s*received\s*=\s*[^;\s]*/gi;

/**
 * Stamps the top Via of an incoming request; true when it changed. The raw Via text is edited
 * (parameters appended or replaced) so everything else the peer wrote stays byte for byte.
 */
export function stampReceived(request: SipRequest, source: Endpoint): boolean {
  const top = request.topVia;
  if (top === undefined) return false;
  const hasRport = top.rport !== undefined;
  // RFC 3261 §18.2.1: received when sent-by is a name or an address other than the packet source;
  // RFC 3581 §4: with rport, received is added even when it equals sent-by.
  if (!hasRport && ipFamily(top.host) !== 0 && sameAddress(top.host, source.address)) return false;
  const line = request.headers.get('Via');
  const raw = line === undefined ? undefined : line.slice(0, valueEnd(line, 0)).trim();
  if (raw === undefined || raw.includes('"')) {
    const next = copyVia(top); // quoted parameter values: take the structured path
    if (hasRport) next.rport = source.port;
    next.received = source.address;
    request.setTopVia(formatVia(next));
    return true;
  }
  let value = raw.replace(RECEIVED_PARAM, '');
  // RFC 3581 §4: rport takes the source port.
  if (hasRport) value = value.replace(RPORT_PARAM, `;rport=${source.port}`);
  request.setTopVia(`${value};received=${source.address}`);
  return true;
}

export function isPlaceholderVia(v: Via): boolean {
  return v.host === '' || v.host === VIA_PLACEHOLDER_HOST;
}

export interface SentBy {
  host: string;
  port?: number;
}

/**
 * Fills a placeholder sent-by and its transport token (or any sent-by with `force`); true when the
 * Via changed.
 */
export function fillSentBy(
  request: SipRequest,
  protocol: TransportProtocol,
  sentBy: SentBy,
  force = false,
): boolean {
  const host =
    ipFamily(sentBy.host) === 6 ? formatHostPort(normaliseAddress(sentBy.host)) : sentBy.host;
  const token = viaTransportToken(protocol);
  const filled = fillRawSentBy(request, token, host, sentBy.port, force);
  if (filled !== undefined) return filled;
  const top = request.topVia;
  if (top === undefined || (!force && !isPlaceholderVia(top))) return false;
  const next = copyVia(top);
  next.transport = token;
  next.host = host;
  if (sentBy.port === undefined) delete next.port;
  else next.port = sentBy.port;
  request.setTopVia(formatVia(next));
  return true;
}

/** `SIP/2.0/<transport> <sent-by><params>` written without LWS or quotes (the Vias we make). */
const PLAIN_VIA = /^SIP\/2\.0\/([A-Za-z]+) ([^\s;,"]+)(;[^\s,"]*)?$/;

/**
 * fillSentBy on the raw text of a plainly written top Via (every Via this stack puts on a request
 * it sends): the sent-by and transport are replaced, the parameters stay as written. Undefined
 * when the Via is written otherwise; the structured path then takes it.
 */
function fillRawSentBy(
  request: SipRequest,
  token: string,
  host: string,
  port: number | undefined,
  force: boolean,
): boolean | undefined {
  const line = request.headers.get('Via');
  if (line === undefined) return undefined;
  const m = PLAIN_VIA.exec(line.slice(0, valueEnd(line, 0)));
  if (m === null) return undefined;
  const sent = m[2] ?? '';
  // RFC 3261 §18.1.1: only the placeholder sent-by is ours to fill (unless forced).
  if (!force && sent !== VIA_PLACEHOLDER_HOST && !sent.startsWith(`${VIA_PLACEHOLDER_HOST}:`))
    return false;
  const hostPort = port === undefined ? host : `${host}:${port}`;
  request.setTopVia(`SIP/2.0/${token} ${hostPort}${m[3] ?? ''}`);
  return true;
}

/** RFC 3261 §18.1.1: the top Via names the transport actually used. */
export function setViaTransport(request: SipRequest, protocol: TransportProtocol): void {
  const top = request.topVia;
  const token = viaTransportToken(protocol);
  if (top === undefined || top.transport === token) return;
  const next = copyVia(top);
  next.transport = token;
  request.setTopVia(formatVia(next));
}

/**
 * Where a response to `request` goes (RFC 3261 §18.2.2, RFC 3581 §4): over the request's flow for
 * streams (falling back to received / sent-by port when it is gone); for UDP to received (or
 * sent-by host) at rport when present, else at the sent-by port.
 */
export function responseTarget(request: SipMessage, flow: Flow): Target {
  const via = request.topVia;
  if (flow.protocol !== 'udp') {
    const t: Target = {
      protocol: flow.protocol,
      address: flow.remote.address,
      port: flow.remote.port,
    };
    if (flow.flowId !== undefined) t.flowId = flow.flowId;
    return t;
  }
  if (via === undefined)
    return { protocol: 'udp', address: flow.remote.address, port: flow.remote.port };
  const address = normaliseAddress(via.received ?? via.host);
  if (typeof via.rport === 'number') return { protocol: 'udp', address, port: via.rport };
  return { protocol: 'udp', address, port: via.port ?? DEFAULT_PORTS.udp };
}

/** §18.2.2 fallback for a stream response whose connection is gone: received (or host) at sent-by port. */
export function viaDestination(
  message: SipMessage,
): (Endpoint & { protocol: TransportProtocol }) | undefined {
  const via = message.topVia;
  if (via === undefined) return undefined;
  const protocol = protocolFromViaTransport(via.transport);
  if (protocol === undefined) return undefined;
  const address = normaliseAddress(via.received ?? via.host);
  if (ipFamily(address) === 0) return undefined; // a name: the caller resolves it (RFC 3263 §5)
  return { protocol, address, port: via.port ?? DEFAULT_PORTS[protocol] };
}
