import t from 'tap';
import { createCancel } from '../../src/message/build-request.js';
import { createResponse } from '../../src/message/build-response.js';
import { SipHeaders } from '../../src/message/sip-headers.js';
import { SipRequest, type SipResponse } from '../../src/message/sip-message.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import { TransactionError } from '../../src/transaction/transaction-error.js';
import { TransactionLayer } from '../../src/transaction/transaction-layer.js';
import type { ClientTransactionHandler } from '../../src/transaction/transaction-user.js';
import type { IncomingMessage } from '../../src/transport/transport.js';
import { ManualClock } from '../../src/util/clock.js';
import { flush, RecordingTransport } from '../support/recording-transport.js';
import { flow, incoming, request, response, type RequestSpec } from './messages.js';

function setup(withUser = true) {
  const clock = new ManualClock();
  const transport = new RecordingTransport();
  const layer = new TransactionLayer({ transport, clock });
  const requests: ServerTransaction[] = [];
  const strayAcks: IncomingMessage[] = [];
  const strayResponses: IncomingMessage[] = [];
  const errors: string[] = [];
  if (withUser) {
    layer.setUser({
      onRequest: (tx) => requests.push(tx),
      onStrayAck: (m) => strayAcks.push(m),
      onStrayResponse: (m) => strayResponses.push(m),
      onServerTransactionError: (e, tx) => errors.push(`${tx.request.method} ${e.code}`),
    });
  }
  return { clock, transport, layer, requests, strayAcks, strayResponses, errors };
}

function recordingHandler() {
  const events: string[] = [];
  const handler: ClientTransactionHandler = {
    onResponse: (r: SipResponse) => events.push(`response ${r.status}`),
    onTimeout: () => events.push('timeout'),
    onTransportError: (e) => events.push(`transport-error ${e.code}`),
  };
  return { events, handler };
}

const target = { protocol: 'udp' as const, address: '192.0.2.20', port: 5060 };
const ack = (spec: RequestSpec) => request({ ...spec, method: 'ACK' });

t.test(
  'transaction layer: a new INVITE creates an INVITE server transaction handed to the TU',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    t.equal(h.requests.length, 1);
    t.equal(h.requests[0]?.kind, 'invite-server');
    t.equal(h.layer.stats().serverTransactions, 1);
    t.end();
  },
);

t.test(
  'transaction layer: a new non-INVITE request creates a non-INVITE server transaction',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request({ method: 'OPTIONS' })));
    t.equal(h.requests[0]?.kind, 'non-invite-server');
    t.end();
  },
);

t.test(
  'transaction layer: the server transaction key is branch + sent-by + method (RFC 3261 §17.2.3)',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request({ viaHost: 'PC33.example.com', viaPort: 5070 })));
    t.equal(h.requests[0]?.key, 'z9hG4bKabc123 pc33.example.com:5070 INVITE');
    t.end();
  },
);

t.test(
  'transaction layer: a retransmitted INVITE matches its transaction and re-sends the provisional',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    h.requests[0]?.respond(createResponse(h.requests[0].request, 180, undefined, { toTag: 'b1' }));
    h.layer.receive(incoming(request()));
    t.equal(h.requests.length, 1, 'not passed to the TU again');
    t.same(h.transport.startLines(), ['SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
    t.equal(h.layer.stats().retransmittedRequests, 1);
    t.end();
  },
);

t.test('transaction layer: same branch from another sent-by is a different transaction', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ viaHost: 'a.example.com' })));
  h.layer.receive(incoming(request({ viaHost: 'b.example.com' })));
  t.equal(h.requests.length, 2);
  t.end();
});

t.test(
  'transaction layer: same branch and sent-by but another method is a different transaction',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request({ method: 'INVITE' })));
    h.layer.receive(incoming(request({ method: 'CANCEL' })));
    t.same(
      h.requests.map((tx) => tx.kind),
      ['invite-server', 'non-invite-server'],
    );
    t.end();
  },
);

t.test(
  'transaction layer: merged-request-free: same Call-ID/From tag/CSeq with another branch is a new transaction',
  (t) => {
    // RFC 3261 §8.2.2.2: detecting a merged request is the TU's job; the transaction layer keeps both.
    const h = setup();
    h.layer.receive(incoming(request({ branch: 'z9hG4bKviaProxyA' })));
    h.layer.receive(incoming(request({ branch: 'z9hG4bKviaProxyB' })));
    t.equal(h.requests.length, 2);
    t.not(h.requests[0], h.requests[1]);
    t.equal(h.requests[0]?.request.callId, h.requests[1]?.request.callId);
    t.end();
  },
);

t.test(
  'transaction layer: ACK for a non-2xx matches the INVITE transaction and is absorbed',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    const tx = h.requests[0];
    tx?.respond(createResponse(tx.request, 486, undefined, { toTag: 'b1' }));
    h.layer.receive(incoming(ack({ toTag: 'b1' })));
    t.equal(tx?.state, 'Confirmed');
    t.equal(h.strayAcks.length, 0);
    t.end();
  },
);

t.test('transaction layer: ACK for a 2xx (new branch) goes to the TU as a stray ACK', (t) => {
  const h = setup();
  h.layer.receive(incoming(request()));
  h.requests[0]?.respond(createResponse(h.requests[0].request, 200, undefined, { toTag: 'b1' }));
  h.layer.receive(incoming(ack({ branch: 'z9hG4bKack2xx', toTag: 'b1' })));
  t.equal(h.strayAcks.length, 1);
  t.equal(h.layer.stats().strayAcks, 1);
  t.equal(h.requests.length, 1, 'ACK never creates a transaction');
  t.end();
});

t.test(
  'transaction layer: ACK matching an INVITE transaction in Accepted is passed to the TU (RFC 6026)',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    h.requests[0]?.respond(createResponse(h.requests[0].request, 200, undefined, { toTag: 'b1' }));
    h.layer.receive(incoming(ack({ toTag: 'b1' })));
    t.equal(h.strayAcks.length, 1);
    t.equal(h.requests[0]?.state, 'Accepted');
    t.end();
  },
);

t.test(
  'transaction layer: a response matches its client transaction by branch and CSeq method (RFC 3261 §17.1.3)',
  async (t) => {
    const h = setup();
    const invite = request({ branch: 'z9hG4bKout1' });
    const inv = recordingHandler();
    const can = recordingHandler();
    const itx = h.layer.sendRequest(invite, target, inv.handler);
    const ctx = h.layer.sendRequest(createCancel(invite), target, can.handler);
    await flush();
    h.layer.receive(incoming(response(invite, 180)));
    h.layer.receive(incoming(response(ctx.request, 200)));
    h.layer.receive(incoming(response(invite, 487)));
    t.same(inv.events, ['response 180', 'response 487']);
    t.same(can.events, ['response 200']);
    t.equal(itx.state, 'Completed');
    t.equal(h.strayResponses.length, 0);
  },
);

t.test('transaction layer: a response that matches no client transaction goes to the TU', (t) => {
  const h = setup();
  h.layer.receive(incoming(response(request({ branch: 'z9hG4bKnobody' }), 200)));
  t.equal(h.strayResponses.length, 1);
  t.equal(h.layer.stats().strayResponses, 1);
  t.end();
});

t.test(
  'transaction layer: a 2xx retransmission after the client transaction ended is a stray response',
  async (t) => {
    const h = setup();
    const invite = request({ branch: 'z9hG4bKout2' });
    const inv = recordingHandler();
    h.layer.sendRequest(invite, target, inv.handler);
    await flush();
    h.layer.receive(incoming(response(invite, 200)));
    h.clock.advance(32_000); // Timer M
    t.equal(h.layer.stats().clientTransactions, 0);
    h.layer.receive(incoming(response(invite, 200)));
    t.same(inv.events, ['response 200']);
    t.equal(h.strayResponses.length, 1);
  },
);

t.test(
  'transaction layer: sendRequest refuses ACK, a missing branch and a duplicate branch',
  (t) => {
    const h = setup();
    const { handler } = recordingHandler();
    const codeOf = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof TransactionError ? e.code : 'other';
      }
      return undefined;
    };
    t.equal(
      codeOf(() => h.layer.sendRequest(ack({ branch: 'z9hG4bKa' }), target, handler)),
      'SIP_ERR_TX_REQUEST',
    );
    t.equal(
      codeOf(() => h.layer.sendRequest(request({ branch: null }), target, handler)),
      'SIP_ERR_TX_REQUEST',
    );
    h.layer.sendRequest(request({ branch: 'z9hG4bKdup' }), target, handler);
    t.equal(
      codeOf(() => h.layer.sendRequest(request({ branch: 'z9hG4bKdup' }), target, handler)),
      'SIP_ERR_TX_REQUEST',
    );
    t.end();
  },
);

t.test('transaction layer: a client timeout is reported and the transaction removed', (t) => {
  const h = setup();
  const r = recordingHandler();
  h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKto' }), target, r.handler);
  t.equal(h.layer.stats().clientTransactions, 1);
  h.clock.advance(32_000);
  t.same(r.events, ['timeout']);
  t.equal(h.layer.stats().clientTransactions, 0);
  t.end();
});

t.test(
  'transaction layer: a client transport error is reported with SIP_ERR_TRANSPORT and the transaction removed',
  async (t) => {
    const h = setup();
    const r = recordingHandler();
    h.transport.failNext();
    h.layer.sendRequest(request({ method: 'OPTIONS', branch: 'z9hG4bKte' }), target, r.handler);
    await flush();
    t.same(r.events, ['transport-error SIP_ERR_TRANSPORT']);
    t.equal(h.layer.stats().clientTransactions, 0);
  },
);

t.test(
  'transaction layer: Timer H reports SIP_ERR_TIMEOUT to the TU and removes the server transaction',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    h.requests[0]?.respond(createResponse(h.requests[0].request, 486, undefined, { toTag: 'b1' }));
    h.clock.advance(32_000);
    t.same(h.errors, ['INVITE SIP_ERR_TIMEOUT']);
    t.equal(h.layer.stats().serverTransactions, 0);
    t.end();
  },
);

t.test(
  'transaction layer: a terminated server transaction is removed and a late retransmission is new',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request({ method: 'OPTIONS' })));
    h.requests[0]?.respond(createResponse(h.requests[0].request, 200, undefined, { toTag: 'b1' }));
    h.clock.advance(32_000); // Timer J
    t.equal(h.layer.stats().serverTransactions, 0);
    h.layer.receive(incoming(request({ method: 'OPTIONS' })));
    t.equal(h.requests.length, 2);
    t.end();
  },
);

t.test('transaction layer: RFC 2543 fallback matches a retransmission without a branch', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ branch: null })));
  h.layer.receive(incoming(request({ branch: null })));
  t.equal(h.requests.length, 1);
  t.ok(h.requests[0]?.key.startsWith('2543 '));
  t.end();
});

t.test('transaction layer: RFC 2543 fallback applies to a branch without the magic cookie', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ branch: 'oldstyle1' })));
  h.layer.receive(incoming(request({ branch: 'oldstyle1' })));
  t.equal(h.requests.length, 1);
  t.ok(h.requests[0]?.key.startsWith('2543 '));
  t.end();
});

t.test(
  'transaction layer: RFC 2543 fallback tells requests apart by Request-URI, From tag, Call-ID, CSeq and Via',
  (t) => {
    const h = setup();
    const base: RequestSpec = { branch: null };
    h.layer.receive(incoming(request(base)));
    h.layer.receive(incoming(request({ ...base, uri: 'sip:carol@example.com' })));
    h.layer.receive(incoming(request({ ...base, fromTag: 'other' })));
    h.layer.receive(incoming(request({ ...base, callId: 'other-call' })));
    h.layer.receive(incoming(request({ ...base, cseq: 2 })));
    h.layer.receive(incoming(request({ ...base, viaHost: 'elsewhere.example.com' })));
    t.equal(h.requests.length, 6);
    t.end();
  },
);

t.test('transaction layer: RFC 2543 fallback compares the To tag', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ branch: null, method: 'BYE', toTag: 't1' })));
  h.layer.receive(incoming(request({ branch: null, method: 'BYE', toTag: 't2' })));
  t.equal(h.requests.length, 2, 'another To tag is another transaction');
  t.not(h.requests[0]?.key, h.requests[1]?.key);
  h.layer.receive(incoming(request({ branch: null, method: 'BYE', toTag: 't1' })));
  t.equal(h.requests.length, 2, 'same To tag matches');
  t.end();
});

t.test('transaction layer: RFC 2543 ACK for a re-INVITE matches with the dialog To tag', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ branch: null, toTag: 'dlg', cseq: 2 })));
  const tx = h.requests[0];
  tx?.respond(createResponse(tx.request, 491));
  h.layer.receive(incoming(ack({ branch: null, toTag: 'dlg', cseq: 2 })));
  t.equal(tx?.state, 'Confirmed');
  t.end();
});

t.test('transaction layer: RFC 2543 ACK matches by the To tag of the response sent', (t) => {
  const h = setup();
  h.layer.receive(incoming(request({ branch: null })));
  const tx = h.requests[0];
  tx?.respond(createResponse(tx.request, 486, undefined, { toTag: 'ours' }));
  h.layer.receive(incoming(ack({ branch: null, toTag: 'not-ours' })));
  t.equal(tx?.state, 'Completed', 'ACK with another To tag does not match');
  t.equal(h.strayAcks.length, 1);
  h.layer.receive(incoming(ack({ branch: null, toTag: 'ours' })));
  t.equal(tx?.state, 'Confirmed');
  t.end();
});

t.test(
  'transaction layer: CANCEL finds the INVITE server transaction it targets (RFC 3261 §9.2)',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request()));
    const cancel = request({ method: 'CANCEL' });
    h.layer.receive(incoming(cancel));
    t.equal(h.requests[1]?.kind, 'non-invite-server', 'CANCEL has its own transaction');
    t.equal(h.layer.findInviteServerTransaction(cancel), h.requests[0]);
    t.end();
  },
);

t.test('transaction layer: CANCEL with another branch or sent-by finds nothing', (t) => {
  const h = setup();
  h.layer.receive(incoming(request()));
  t.equal(
    h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: 'z9hG4bKother' })),
    undefined,
  );
  t.equal(
    h.layer.findInviteServerTransaction(request({ method: 'CANCEL', viaHost: 'x.example.com' })),
    undefined,
  );
  t.end();
});

t.test(
  'transaction layer: CANCEL matching uses the RFC 2543 fallback for branch-less requests',
  (t) => {
    const h = setup();
    h.layer.receive(incoming(request({ branch: null })));
    t.equal(
      h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: null })),
      h.requests[0],
    );
    t.equal(
      h.layer.findInviteServerTransaction(request({ method: 'CANCEL', branch: null, cseq: 9 })),
      undefined,
    );
    t.end();
  },
);

t.test('transaction layer: findServerTransaction maps an ACK to its INVITE transaction', (t) => {
  const h = setup();
  h.layer.receive(incoming(request()));
  t.equal(h.layer.findServerTransaction(ack({})), h.requests[0]);
  t.end();
});

t.test('transaction layer: a request without Via is dropped', (t) => {
  const h = setup();
  h.layer.receive(incoming(new SipRequest('OPTIONS', 'sip:x@example.com', new SipHeaders())));
  t.equal(h.requests.length, 0);
  t.equal(h.layer.stats().serverTransactions, 0);
  t.end();
});

t.test('transaction layer: without a TU, requests create no transaction', (t) => {
  const h = setup(false);
  h.layer.receive(incoming(request()));
  t.equal(h.layer.stats().serverTransactions, 0);
  t.end();
});

t.test(
  'transaction layer: responses of a server transaction go back over the request flow (TCP)',
  (t) => {
    const h = setup();
    const f = flow('tcp', { address: '192.0.2.30', port: 40312 });
    h.layer.receive(incoming(request({ transport: 'TCP' }), f));
    h.requests[0]?.respond(createResponse(h.requests[0].request, 200, undefined, { toTag: 'b1' }));
    t.equal(h.transport.sent[0]?.target.flowId, f.flowId);
    t.equal(h.transport.sent[0]?.target.port, 40312);
    t.end();
  },
);

t.test(
  'transaction layer: a UDP reply with rport leaves from the socket the request came in on (RFC 3581 §4)',
  (t) => {
    const h = setup();
    const f = {
      ...flow('udp', { address: '198.51.100.7', port: 34567 }),
      flowId: 'udp:127.0.0.1:5060->198.51.100.7:34567',
    };
    h.layer.receive(
      incoming(request({ viaHost: '10.0.0.5', viaParams: 'rport=34567;received=198.51.100.7' }), f),
    );
    h.requests[0]?.respond(createResponse(h.requests[0].request, 180, undefined, { toTag: 'b1' }));
    t.same(h.transport.sent[0]?.target, {
      protocol: 'udp',
      address: '198.51.100.7',
      port: 34567,
      flowId: f.flowId,
    });
    t.end();
  },
);

t.test(
  'transaction layer: a UDP reply without rport goes to received + sent-by port (RFC 3261 §18.2.2)',
  (t) => {
    const h = setup();
    const f = {
      ...flow('udp', { address: '198.51.100.7', port: 34567 }),
      flowId: 'udp:127.0.0.1:5060->198.51.100.7:34567',
    };
    h.layer.receive(
      incoming(
        request({ viaHost: 'pc.example.com', viaPort: 5070, viaParams: 'received=198.51.100.7' }),
        f,
      ),
    );
    h.requests[0]?.respond(createResponse(h.requests[0].request, 180, undefined, { toTag: 'b1' }));
    t.same(h.transport.sent[0]?.target, { protocol: 'udp', address: '198.51.100.7', port: 5070 });
    t.end();
  },
);

t.test(
  'transaction layer: sendStateless sends an ACK for a 2xx without creating a transaction',
  async (t) => {
    const h = setup();
    const flowOut = await h.layer.sendStateless(ack({ branch: 'z9hG4bKack' }), target);
    t.equal(flowOut.remote.address, '192.0.2.20');
    t.same(h.transport.startLines(), ['ACK sip:bob@example.com SIP/2.0']);
    t.equal(h.layer.stats().clientTransactions, 0);
  },
);

t.test('transaction layer: dispose() stops every transaction', (t) => {
  const h = setup();
  h.layer.receive(incoming(request()));
  h.layer.sendRequest(request({ branch: 'z9hG4bKd' }), target, recordingHandler().handler);
  h.layer.dispose();
  h.layer.dispose();
  t.equal(h.clock.pending, 0);
  t.same(h.layer.stats().clientTransactions + h.layer.stats().serverTransactions, 0);
  t.end();
});
