/**
 * A small user agent for proxy tests, built from the real transport and transaction layers on
 * 127.0.0.1: it records the requests it receives (to answer by hand) and the responses to the
 * requests it sends. Every wait has a deadline so a broken test fails instead of hanging.
 */
import { createRequest } from '../../../src/message/build-request.js';
import { createResponse, type CreateResponseOptions } from '../../../src/message/build-response.js';
import { generateBranch, generateCallId, generateTag } from '../../../src/message/ids.js';
import type { SipRequest, SipResponse } from '../../../src/message/sip-message.js';
import type { ClientTransaction, ServerTransaction } from '../../../src/transaction/transaction.js';
import { TransactionLayer } from '../../../src/transaction/transaction-layer.js';
import { TransportLayer } from '../../../src/transport/transport-layer.js';
import type { Flow, Target, TransportProtocol } from '../../../src/transport/transport.js';
import type { Clock } from '../../../src/util/clock.js';
import { AsyncQueue } from '../../support/sip-peers.js';

export interface ReceivedRequest {
  tx: ServerTransaction;
  request: SipRequest;
  flow: Flow;
}

/** One request this UA sent: its transaction and what came back. */
export interface SentRequest {
  tx: ClientTransaction;
  request: SipRequest;
  responses: AsyncQueue<SipResponse>;
  /** 'timeout' / 'transport-error' events. */
  failures: string[];
}

export interface FakeUaOptions {
  clock: Clock;
  protocols?: readonly TransportProtocol[];
  user?: string;
}

export class FakeUa {
  readonly transport: TransportLayer;
  readonly layer: TransactionLayer;
  readonly user: string;
  readonly requests = new AsyncQueue<ReceivedRequest>();
  readonly acks = new AsyncQueue<SipRequest>();
  readonly strayResponses = new AsyncQueue<SipResponse>();

  private constructor(transport: TransportLayer, layer: TransactionLayer, user: string) {
    this.transport = transport;
    this.layer = layer;
    this.user = user;
    layer.setUser({
      onRequest: (tx, m) => {
        if (m.message.kind === 'request')
          this.requests.push({ tx, request: m.message, flow: m.flow });
      },
      onStrayAck: (m) => {
        if (m.message.kind === 'request') this.acks.push(m.message);
      },
      onStrayResponse: (m) => {
        if (m.message.kind === 'response') this.strayResponses.push(m.message);
      },
    });
  }

  static async create(options: FakeUaOptions): Promise<FakeUa> {
    const transport = new TransportLayer({ clock: options.clock });
    for (const protocol of options.protocols ?? ['udp'])
      await transport.listen({ protocol, address: '127.0.0.1', port: 0 });
    const layer = new TransactionLayer({ transport, clock: options.clock });
    transport.onMessage((m) => layer.receive(m));
    return new FakeUa(transport, layer, options.user ?? 'ua');
  }

  port(protocol: TransportProtocol = 'udp'): number {
    const lp = this.transport.listeningPoints().find((p) => p.protocol === protocol);
    if (lp === undefined) throw new Error(`no ${protocol} listening point`);
    return lp.local.port;
  }

  target(protocol: TransportProtocol = 'udp'): Target {
    return { protocol, address: '127.0.0.1', port: this.port(protocol) };
  }

  /** This UA's address of record / contact URI. */
  uri(protocol: TransportProtocol = 'udp', user = this.user): string {
    const t = protocol === 'udp' ? '' : `;transport=${protocol}`;
    return `sip:${user}@127.0.0.1:${this.port(protocol)}${t}`;
  }

  /** Sends a request in a client transaction. */
  send(request: SipRequest, target: Target): SentRequest {
    const responses = new AsyncQueue<SipResponse>();
    const failures: string[] = [];
    const tx = this.layer.sendRequest(request, target, {
      onResponse: (r) => responses.push(r),
      onTimeout: () => failures.push('timeout'),
      onTransportError: () => failures.push('transport-error'),
    });
    return { tx, request, responses, failures };
  }

  /** Answers a received request through its server transaction. */
  respond(
    received: ReceivedRequest,
    status: number,
    opts?: CreateResponseOptions & { reason?: string },
  ): SipResponse {
    const response = createResponse(received.request, status, opts?.reason, {
      copyRecordRoute: status >= 101 && status < 300,
      ...(status >= 101 && status < 300
        ? { headers: { Contact: `<${this.uri(received.flow.protocol)}>` } }
        : {}),
      ...opts,
    });
    received.tx.respond(response);
    return response;
  }

  /** Waits for the next response with a status at or above `min` (skipping smaller ones). */
  async nextResponse(sent: SentRequest, min = 101): Promise<SipResponse> {
    for (;;) {
      const r = await sent.responses.next();
      if (r.status >= min) return r;
    }
  }

  async close(): Promise<void> {
    this.layer.dispose();
    await this.transport.close();
  }
}

export interface RequestInit {
  method?: string;
  uri: string;
  callId?: string;
  fromTag?: string;
  toTag?: string;
  cseq?: number;
  route?: string[];
  headers?: Record<string, string | string[]>;
  maxForwards?: number;
  contact?: string;
}

/** A request from alice, with a fresh branch and a placeholder sent-by. */
export function buildRequest(init: RequestInit): SipRequest {
  const method = init.method ?? 'INVITE';
  const req = createRequest({
    method,
    uri: init.uri,
    from: `<sip:alice@example.test>;tag=${init.fromTag ?? generateTag()}`,
    to: `<sip:bob@example.test>${init.toTag === undefined ? '' : `;tag=${init.toTag}`}`,
    callId: init.callId ?? generateCallId(),
    cseq: init.cseq ?? 1,
    via: [`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()};rport`],
    ...(init.maxForwards === undefined ? {} : { maxForwards: init.maxForwards }),
    ...(init.route === undefined ? {} : { route: init.route }),
    ...(init.headers === undefined ? {} : { headers: init.headers }),
    contact: init.contact ?? '<sip:alice@127.0.0.1>',
  });
  if (init.maxForwards === -1) req.headers.delete('Max-Forwards');
  return req;
}

/** RFC 3261 §13.2.2.4: the ACK for a 2xx, routed by the route set the 2xx set up. */
export function ackFor2xx(invite: SipRequest, ok: SipResponse): SipRequest {
  const route = ok.headers.values('Record-Route').reverse();
  const contact = ok.contacts[0]?.uri ?? invite.uri;
  return createRequest({
    method: 'ACK',
    uri: contact,
    from: invite.headers.get('From') ?? '',
    to: ok.headers.get('To') ?? '',
    callId: invite.callId,
    cseq: invite.cseq.seq,
    via: [`SIP/2.0/UDP 0.0.0.0;branch=${generateBranch()};rport`],
    route,
  });
}
