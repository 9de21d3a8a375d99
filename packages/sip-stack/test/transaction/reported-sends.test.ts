import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import { TransactionLayer } from '../../src/transaction/transaction-layer.js';
import { TransportError } from '../../src/transport/transport-error.js';
import type { Flow, SendReport, Target } from '../../src/transport/transport.js';
import { ManualClock } from '../../src/util/clock.js';
import { flush } from '../support/recording-transport.js';
import { incoming, request } from './messages.js';

/**
 * A transport that reports like TransportLayer: `send(message, target, report)` returns undefined
 * and tells the report on a microtask, with the bytes it sent.
 */
class ReportingTransport {
  readonly sent: { data: Buffer; raw: boolean }[] = [];
  failNext = false;

  send(message: SipMessage, target: Target, report?: SendReport): Promise<Flow> | undefined {
    return this.#out(message.toBuffer(), target, false, report);
  }

  sendBuffer(data: Buffer, target: Target, report?: SendReport): Promise<Flow> | undefined {
    return this.#out(data, target, true, report);
  }

  #out(data: Buffer, target: Target, raw: boolean, report?: SendReport) {
    if (report === undefined) throw new Error('expected a report');
    this.sent.push({ data, raw });
    const fail = this.failNext;
    this.failNext = false;
    const flow: Flow = {
      protocol: target.protocol,
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: target.address, port: target.port },
      flowId: `udp:127.0.0.1:5060->${target.address}:${target.port}`,
    };
    queueMicrotask(() =>
      fail ? report.failed(new TransportError('SIP_ERR_SEND', 'down')) : report.sent(flow, data),
    );
    return undefined;
  }
}

function setup() {
  const clock = new ManualClock();
  const transport = new ReportingTransport();
  const layer = new TransactionLayer({ transport, clock });
  const requests: ServerTransaction[] = [];
  const errors: string[] = [];
  layer.setUser({
    onRequest: (tx) => requests.push(tx),
    onStrayAck: () => undefined,
    onStrayResponse: () => undefined,
    onServerTransactionError: (err) => errors.push(err.code),
  });
  return { clock, transport, layer, requests, errors };
}

t.test(
  'non-INVITE server tx: in Completed it keeps the bytes the transport reported, without serialising the response again',
  async (t) => {
    const h = setup();
    const register = () => request({ method: 'REGISTER', uri: 'sip:example.com' });
    h.layer.receive(incoming(register()));
    const tx = h.requests[0];
    if (tx === undefined) throw new Error('no transaction');
    const response = createResponse(tx.request, 200, undefined, { toTag: 'b1' });
    let serialised = 0;
    const toBuffer = response.toBuffer.bind(response);
    response.toBuffer = () => {
      serialised++;
      return toBuffer();
    };
    tx.respond(response);
    await flush();
    t.equal(tx.state, 'Completed');
    t.equal(serialised, 1, 'serialised once, by the transport');
    h.layer.receive(incoming(register()));
    await flush();
    t.equal(h.transport.sent.length, 2);
    t.equal(h.transport.sent[1]?.raw, true, 'the retransmission is the kept bytes');
    t.same(h.transport.sent[1]?.data, h.transport.sent[0]?.data);
    t.equal(serialised, 1);
  },
);

t.test(
  'INVITE server tx: a reported send failure in Completed terminates it and tells the TU (RFC 3261 §17.2.4)',
  async (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    const tx = h.requests[0];
    if (tx === undefined) throw new Error('no transaction');
    h.transport.failNext = true;
    tx.respond(createResponse(tx.request, 486, undefined, { toTag: 'b1' }));
    t.equal(tx.state, 'Completed', 'nothing reported before respond returned');
    await flush();
    t.equal(tx.state, 'Terminated');
    t.same(h.errors, ['SIP_ERR_TRANSPORT']);
  },
);

t.test(
  'INVITE client tx: a reported send failure in Calling terminates it and tells the handler (RFC 3261 §17.1.4)',
  async (t) => {
    const h = setup();
    const failures: string[] = [];
    h.transport.failNext = true;
    const tx = h.layer.sendRequest(
      request({ branch: 'z9hG4bKout1' }),
      { protocol: 'udp', address: '192.0.2.1', port: 5060 },
      {
        onResponse: () => undefined,
        onTimeout: () => undefined,
        onTransportError: (err) => failures.push(err.code),
      },
    );
    t.equal(tx.state, 'Calling');
    await flush();
    t.equal(tx.state, 'Terminated');
    t.same(failures, ['SIP_ERR_TRANSPORT']);
  },
);
