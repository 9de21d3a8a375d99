/** Builders for the transaction and dialog tests: text through the real parser, like the wire. */
import { createResponse } from '../../src/message/build-response.js';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipRequest, SipResponse } from '../../src/message/sip-message.js';
import type { Flow, IncomingMessage, TransportProtocol } from '../../src/transport/transport.js';

export interface RequestSpec {
  method?: string;
  uri?: string;
  /** Top Via branch; `null` = no branch parameter (RFC 2543 peer). */
  branch?: string | null;
  viaHost?: string;
  viaPort?: number;
  transport?: string;
  /** Extra Via params after the branch (e.g. "rport", "received=1.2.3.4"). */
  viaParams?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  fromTag?: string;
  toTag?: string;
  extra?: readonly string[];
  body?: string;
}

export function request(spec: RequestSpec = {}): SipRequest {
  const method = spec.method ?? 'INVITE';
  const branch = spec.branch === null ? '' : `;branch=${spec.branch ?? 'z9hG4bKabc123'}`;
  const viaParams = spec.viaParams === undefined ? '' : `;${spec.viaParams}`;
  const port = spec.viaPort === undefined ? '' : `:${spec.viaPort}`;
  const body = spec.body ?? '';
  const lines = [
    `${method} ${spec.uri ?? 'sip:bob@example.com'} SIP/2.0`,
    `Via: SIP/2.0/${spec.transport ?? 'UDP'} ${spec.viaHost ?? 'pc33.example.com'}${port}${branch}${viaParams}`,
    'Max-Forwards: 70',
    `From: Alice <sip:alice@example.com>;tag=${spec.fromTag ?? 'a1'}`,
    `To: Bob <sip:bob@example.com>${spec.toTag === undefined ? '' : `;tag=${spec.toTag}`}`,
    `Call-ID: ${spec.callId ?? 'call-1@pc33'}`,
    `CSeq: ${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`,
    'Contact: <sip:alice@pc33.example.com>',
    ...(spec.extra ?? []),
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ];
  const r = parseMessage(Buffer.from(lines.join('\r\n')));
  if (!r.ok || r.message.kind !== 'request')
    throw new Error(`test request did not parse: ${JSON.stringify(r)}`);
  return r.message;
}

export function response(
  req: SipRequest,
  status: number,
  opts: { toTag?: string; headers?: Record<string, string | string[]> } = {},
): SipResponse {
  const o: { toTag?: string; headers?: Record<string, string | string[]> } = {};
  if (status > 100) o.toTag = opts.toTag ?? 'b1';
  if (opts.headers !== undefined) o.headers = opts.headers;
  // Round-trip through bytes so the response is what a peer would send.
  const r = parseMessage(createResponse(req, status, undefined, o).toBuffer());
  if (!r.ok || r.message.kind !== 'response') throw new Error('test response did not parse');
  return r.message;
}

export function flow(
  protocol: TransportProtocol = 'udp',
  remote = { address: '192.0.2.10', port: 5060 },
): Flow {
  const f: Flow = { protocol, local: { address: '127.0.0.1', port: 5060 }, remote };
  if (protocol !== 'udp')
    f.flowId = `${protocol}:127.0.0.1:5060->${remote.address}:${remote.port}#1`;
  return f;
}

export function incoming(message: SipRequest | SipResponse, f: Flow = flow()): IncomingMessage {
  return { message, flow: f, receivedAt: 0 };
}
