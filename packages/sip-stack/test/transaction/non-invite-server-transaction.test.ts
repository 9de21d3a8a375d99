import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { flush } from '../support/recording-transport.js';
import { sendTimes } from './client-harness.js';
import { nonInviteServer } from './server-harness.js';

t.test('non-INVITE server tx: a new request starts in Trying and sends nothing', (t) => {
  const h = nonInviteServer();
  t.equal(h.tx.state, 'Trying');
  h.clock.advance(10_000);
  t.equal(h.transport.sent.length, 0, 'no 100 Trying for non-INVITE (RFC 3261 §17.2.2)');
  t.end();
});

t.test('non-INVITE server tx: request retransmission in Trying is absorbed', (t) => {
  const h = nonInviteServer();
  h.tx.receiveRequest();
  t.equal(h.transport.sent.length, 0);
  t.equal(h.tx.state, 'Trying');
  t.end();
});

t.test('non-INVITE server tx: 1xx from the TU in Trying moves to Proceeding', (t) => {
  const h = nonInviteServer();
  t.ok(h.tx.respond(createResponse(h.tx.request, 100)));
  t.equal(h.tx.state, 'Proceeding');
  t.same(h.transport.startLines(), ['SIP/2.0 100 Trying']);
  t.end();
});

t.test(
  'non-INVITE server tx: 1xx from the TU in Proceeding is sent and stays in Proceeding',
  (t) => {
    const h = nonInviteServer();
    h.tx.respond(createResponse(h.tx.request, 100));
    t.ok(h.tx.respond(createResponse(h.tx.request, 180, undefined, { toTag: 'b1' })));
    t.equal(h.tx.state, 'Proceeding');
    t.same(h.transport.startLines(), ['SIP/2.0 100 Trying', 'SIP/2.0 180 Ringing']);
    t.end();
  },
);

t.test(
  'non-INVITE server tx: request retransmission in Proceeding re-sends the last provisional',
  async (t) => {
    const h = nonInviteServer();
    h.tx.respond(createResponse(h.tx.request, 100));
    await flush();
    h.tx.receiveRequest();
    h.tx.receiveRequest();
    t.same(h.transport.startLines(), [
      'SIP/2.0 100 Trying',
      'SIP/2.0 100 Trying',
      'SIP/2.0 100 Trying',
    ]);
    t.equal(h.transport.sent[1]?.data, h.transport.sent[2]?.data, 'serialised once');
  },
);

t.test('non-INVITE server tx: final from the TU in Trying moves to Completed', (t) => {
  const h = nonInviteServer();
  t.ok(h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' })));
  t.equal(h.tx.state, 'Completed');
  t.same(h.transport.startLines(), ['SIP/2.0 200 OK']);
  t.end();
});

t.test('non-INVITE server tx: final from the TU in Proceeding moves to Completed', (t) => {
  const h = nonInviteServer();
  h.tx.respond(createResponse(h.tx.request, 100));
  t.ok(h.tx.respond(createResponse(h.tx.request, 403, undefined, { toTag: 'b1' })));
  t.equal(h.tx.state, 'Completed');
  t.end();
});

t.test(
  'non-INVITE server tx: request retransmission in Completed re-sends the final',
  async (t) => {
    const h = nonInviteServer();
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    await flush();
    h.tx.receiveRequest();
    h.tx.receiveRequest();
    t.same(h.transport.startLines(), ['SIP/2.0 200 OK', 'SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    t.equal(h.transport.sent[1]?.data, h.transport.sent[2]?.data);
  },
);

t.test('non-INVITE server tx: responses from the TU in Completed are refused', (t) => {
  const h = nonInviteServer();
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  t.notOk(h.tx.respond(createResponse(h.tx.request, 500, undefined, { toTag: 'b1' })));
  t.notOk(h.tx.respond(createResponse(h.tx.request, 100)));
  t.equal(h.transport.sent.length, 1);
  t.end();
});

t.test(
  'non-INVITE server tx: the final is not retransmitted without a request retransmission',
  (t) => {
    const h = nonInviteServer();
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    t.same(sendTimes(h, 40_000), []);
    t.end();
  },
);

t.test(
  'non-INVITE server tx: Timer J in Completed moves to Terminated after 64*T1 (unreliable)',
  (t) => {
    const h = nonInviteServer({ timers: { T1: 200 } });
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    h.clock.advance(12_799);
    t.equal(h.tx.state, 'Completed');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated']);
    t.equal(h.clock.pending, 0);
    t.end();
  },
);

t.test('non-INVITE server tx: Timer J is 0 on a reliable transport', (t) => {
  const h = nonInviteServer({ protocol: 'ws' });
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  t.equal(h.tx.state, 'Terminated');
  t.same(h.events, ['terminated']);
  t.same(h.transport.startLines(), ['SIP/2.0 200 OK']);
  t.end();
});

t.test(
  'non-INVITE server tx: transport error in Proceeding moves to Terminated and informs the TU',
  async (t) => {
    const h = nonInviteServer();
    h.transport.failNext();
    h.tx.respond(createResponse(h.tx.request, 100));
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'error SIP_ERR_TRANSPORT']);
  },
);

t.test(
  'non-INVITE server tx: transport error in Completed moves to Terminated and informs the TU',
  async (t) => {
    const h = nonInviteServer();
    h.transport.failNext();
    h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'error SIP_ERR_TRANSPORT']);
    t.equal(h.clock.pending, 0, 'Timer J stopped');
  },
);

t.test('non-INVITE server tx: transport error in Trying is ignored', (t) => {
  const h = nonInviteServer();
  h.tx.receiveTransportError(new Error('nothing was sent'));
  t.equal(h.tx.state, 'Trying');
  t.same(h.events, []);
  t.end();
});

t.test('non-INVITE server tx: dispose() is safe twice', (t) => {
  const h = nonInviteServer();
  h.tx.respond(createResponse(h.tx.request, 200, undefined, { toTag: 'b1' }));
  h.tx.dispose();
  h.tx.dispose();
  t.equal(h.tx.state, 'Terminated');
  t.equal(h.clock.pending, 0);
  t.same(h.events, ['terminated']);
  t.end();
});
