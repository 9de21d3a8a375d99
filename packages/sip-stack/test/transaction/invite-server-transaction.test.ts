import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { parseMessage } from '../../src/message/parse-message.js';
import { flush } from '../support/recording-transport.js';
import { sendTimes } from './client-harness.js';
import { inviteServer } from './server-harness.js';

const STATUS_LINE_100 = 'SIP/2.0 100 Trying';

t.test('INVITE server tx: a new INVITE starts in Proceeding', (t) => {
  const h = inviteServer();
  t.equal(h.tx.state, 'Proceeding');
  t.equal(h.transport.sent.length, 0);
  t.end();
});

t.test(
  'INVITE server tx: sends 100 Trying after 200 ms when the TU has not answered (RFC 3261 §17.2.1)',
  (t) => {
    const h = inviteServer();
    h.clock.advance(199);
    t.equal(h.transport.sent.length, 0);
    h.clock.advance(1);
    t.same(h.transport.startLines(), [STATUS_LINE_100]);
    const wire = parseMessage(h.transport.sent[0]?.data ?? Buffer.alloc(0));
    t.ok(
      wire.ok && wire.message.kind === 'response' && wire.message.toTag === undefined,
      '100 without a To tag',
    );
    t.ok(wire.ok && wire.message.headers.get('Timestamp') === '54', 'Timestamp copied (§8.2.6.1)');
    t.equal(h.tx.state, 'Proceeding');
    t.end();
  },
);

t.test('INVITE server tx: no 100 Trying when the TU answers within 200 ms', (t) => {
  const h = inviteServer();
  h.clock.advance(50);
  t.ok(h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' })));
  h.clock.advance(1000);
  t.same(h.transport.startLines(), ['SIP/2.0 180 Ringing']);
  t.end();
});

t.test('INVITE server tx: 1xx from the TU in Proceeding is sent and stays in Proceeding', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' }));
  h.tx.respond(createResponse(h.tx.request, 183, undefined, { toTag: 'b1' }));
  t.equal(h.tx.state, 'Proceeding');
  t.same(h.transport.startLines(), ['SIP/2.0 180 Ringing', 'SIP/2.0 183 Session Progress']);
  t.end();
});

t.test(
  'INVITE server tx: INVITE retransmission in Proceeding re-sends the last provisional',
  async (t) => {
    const h = inviteServer();
    h.tx.receiveRequest();
    t.equal(h.transport.sent.length, 0, 'nothing to re-send before a provisional');
    h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' }));
    await flush();
    h.tx.receiveRequest();
    h.tx.receiveRequest();
    t.same(h.transport.startLines(), [
      'SIP/2.0 180 Ringing',
      'SIP/2.0 180 Ringing',
      'SIP/2.0 180 Ringing',
    ]);
    t.equal(h.transport.sent[1]?.data, h.transport.sent[2]?.data, 'serialised once');
    t.equal(h.tx.state, 'Proceeding');
  },
);

t.test('INVITE server tx: 2xx from the TU in Proceeding moves to Accepted (RFC 6026)', (t) => {
  const h = inviteServer();
  t.ok(h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' })));
  t.equal(h.tx.state, 'Accepted');
  t.same(h.transport.startLines(), ['SIP/2.0 200 OK']);
  t.same(sendTimes(h, 10_000), [], 'the transaction never retransmits a 2xx itself');
  t.end();
});

t.test('INVITE server tx: 2xx retransmissions from the TU in Accepted are sent (RFC 6026)', (t) => {
  const h = inviteServer();
  const ok = createResponse(h.tx.request, 200, undefined, { toTag: 'b1' });
  h.tx.respond(ok);
  t.ok(h.tx.respond(ok));
  t.ok(h.tx.respond(ok));
  t.same(h.transport.startLines(), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  t.equal(h.tx.state, 'Accepted');
  t.end();
});

t.test(
  'INVITE server tx: a 2xx object passed again in Accepted is re-sent from the same Buffer',
  async (t) => {
    const h = inviteServer();
    const ok = createResponse(h.tx.request, 200, undefined, { toTag: 'b1' });
    h.tx.respond(ok);
    await flush();
    h.tx.respond(ok);
    h.tx.respond(ok);
    t.equal(h.transport.sent[1]?.raw, true);
    t.equal(h.transport.sent[1]?.data, h.transport.sent[2]?.data);
  },
);

t.test('INVITE server tx: non-2xx from the TU in Accepted is refused', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  t.notOk(h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' })));
  t.notOk(h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' })));
  t.equal(h.transport.sent.length, 1);
  t.end();
});

t.test('INVITE server tx: INVITE retransmission in Accepted is absorbed (RFC 6026)', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  h.tx.receiveRequest();
  t.equal(h.transport.sent.length, 1);
  t.equal(h.tx.state, 'Accepted');
  t.end();
});

t.test(
  'INVITE server tx: ACK in Accepted is passed to the TU and the state stays Accepted (RFC 6026)',
  (t) => {
    const h = inviteServer();
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    t.equal(h.tx.receiveAck(), true);
    t.equal(h.tx.receiveAck(), true);
    t.equal(h.tx.state, 'Accepted');
    t.end();
  },
);

t.test('INVITE server tx: Timer L in Accepted moves to Terminated after 64*T1 (RFC 6026)', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  h.clock.advance(31_999);
  t.equal(h.tx.state, 'Accepted');
  h.clock.advance(1);
  t.equal(h.tx.state, 'Terminated');
  t.same(h.events, ['terminated']);
  t.equal(h.clock.pending, 0);
  t.end();
});

t.test('INVITE server tx: 300-699 from the TU in Proceeding moves to Completed', (t) => {
  const h = inviteServer();
  t.ok(h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' })));
  t.equal(h.tx.state, 'Completed');
  t.same(h.transport.startLines(), ['SIP/2.0 486 Busy Here']);
  t.end();
});

t.test(
  'INVITE server tx: Timer G retransmits the final at T1, doubling up to T2, until Timer H',
  async (t) => {
    const h = inviteServer();
    h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
    await flush();
    // RFC 3261 §17.2.1: 500, 1000, 2000, 4000, 4000... ; Timer H at 64*T1 = 32000.
    t.same(sendTimes(h, 40_000), [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
    t.equal(
      h.transport.sent[1]?.data,
      h.transport.sent[5]?.data,
      'retransmissions reuse one Buffer',
    );
  },
);

t.test('INVITE server tx: Timer H in Completed moves to Terminated and informs the TU', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 404, undefined, { toTag: 'b1' }));
  h.clock.advance(31_999);
  t.equal(h.tx.state, 'Completed');
  h.clock.advance(1);
  t.equal(h.tx.state, 'Terminated');
  t.same(h.events, ['terminated', 'error SIP_ERR_TIMEOUT']);
  t.equal(h.clock.pending, 0);
  t.end();
});

t.test('INVITE server tx: INVITE retransmission in Completed re-sends the final', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 480, undefined, { toTag: 'b1' }));
  h.tx.receiveRequest();
  t.same(h.transport.startLines(), [
    'SIP/2.0 480 Temporarily Unavailable',
    'SIP/2.0 480 Temporarily Unavailable',
  ]);
  t.end();
});

t.test('INVITE server tx: ACK in Completed moves to Confirmed and stops Timers G and H', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  t.equal(h.tx.receiveAck(), false, 'absorbed');
  t.equal(h.tx.state, 'Confirmed');
  t.same(sendTimes(h, 4_000), [], 'no more retransmissions');
  t.same(h.events, []);
  t.end();
});

t.test('INVITE server tx: ACK and INVITE retransmissions in Confirmed are absorbed', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  h.tx.receiveAck();
  t.equal(h.tx.receiveAck(), false);
  h.tx.receiveRequest();
  t.equal(h.transport.sent.length, 1);
  t.equal(h.tx.state, 'Confirmed');
  t.end();
});

t.test('INVITE server tx: Timer I in Confirmed moves to Terminated after T4 (unreliable)', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  h.tx.receiveAck();
  h.clock.advance(4_999);
  t.equal(h.tx.state, 'Confirmed');
  h.clock.advance(1);
  t.equal(h.tx.state, 'Terminated');
  t.same(h.events, ['terminated']);
  t.end();
});

t.test('INVITE server tx: reliable transport runs no Timer G; Timer H still fires', (t) => {
  const h = inviteServer({ protocol: 'tcp' });
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  t.same(sendTimes(h, 40_000), []);
  t.same(h.events, ['terminated', 'error SIP_ERR_TIMEOUT']);
  t.end();
});

t.test(
  'INVITE server tx: Timer I is 0 on a reliable transport (Confirmed → Terminated at once)',
  (t) => {
    const h = inviteServer({ protocol: 'tcp' });
    h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
    h.tx.receiveAck();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated']);
    t.end();
  },
);

t.test('INVITE server tx: ACK in Proceeding is ignored', (t) => {
  const h = inviteServer();
  t.equal(h.tx.receiveAck(), false);
  t.equal(h.tx.state, 'Proceeding');
  t.end();
});

t.test(
  'INVITE server tx: transport error in Proceeding moves to Terminated and informs the TU',
  async (t) => {
    const h = inviteServer();
    h.transport.failNext();
    h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'error SIP_ERR_TRANSPORT']);
    t.equal(h.clock.pending, 0);
  },
);

t.test(
  'INVITE server tx: transport error in Completed moves to Terminated and informs the TU',
  async (t) => {
    const h = inviteServer();
    h.transport.failNext();
    h.tx.respond(createResponse(h.tx.request, 500, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'error SIP_ERR_TRANSPORT']);
    t.equal(h.clock.pending, 0);
  },
);

t.test(
  'INVITE server tx: transport error in Accepted informs the TU and stays in Accepted',
  async (t) => {
    const h = inviteServer();
    h.transport.failNext();
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(h.tx.state, 'Accepted');
    t.same(h.events, ['error SIP_ERR_TRANSPORT']);
  },
);

t.test('INVITE server tx: transport error in Confirmed is ignored', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  h.tx.receiveAck();
  h.tx.receiveTransportError(new Error('late'));
  t.equal(h.tx.state, 'Confirmed');
  t.same(h.events, []);
  t.end();
});

t.test('INVITE server tx: responses after a final are refused', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' }));
  t.notOk(h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' })), 'Completed');
  h.tx.receiveAck();
  t.notOk(h.tx.respond(createResponse(h.tx.request, 486, undefined, { toTag: 'b1' })), 'Confirmed');
  h.tx.dispose();
  t.notOk(
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' })),
    'Terminated',
  );
  t.equal(h.transport.sent.length, 1);
  t.end();
});

t.test('INVITE server tx: dispose() stops the 100 Trying timer and is safe twice', (t) => {
  const h = inviteServer();
  h.tx.dispose();
  h.tx.dispose();
  h.clock.advance(1000);
  t.equal(h.tx.state, 'Terminated');
  t.equal(h.transport.sent.length, 0);
  t.same(h.events, ['terminated']);
  t.end();
});

t.test('INVITE server tx: responses go to the §18.2.2 target', (t) => {
  const h = inviteServer();
  h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' }));
  t.same(h.transport.sent[0]?.target, { protocol: 'udp', address: '192.0.2.10', port: 5060 });
  t.end();
});
