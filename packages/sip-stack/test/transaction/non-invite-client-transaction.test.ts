import t from 'tap';
import { flush } from '../support/recording-transport.js';
import { nonInviteClient, sendTimes } from './client-harness.js';
import { response } from './messages.js';

t.test('non-INVITE client tx: start sends the request and enters Trying', async (t) => {
  const h = await nonInviteClient({ method: 'BYE' });
  t.equal(h.tx.state, 'Trying');
  t.same(h.transport.startLines(), ['BYE sip:bob@example.com SIP/2.0']);
  t.equal(h.tx.key, 'z9hG4bKclient1 BYE');
});

t.test('non-INVITE client tx: Timer E in Trying doubles up to T2 (unreliable)', async (t) => {
  const h = await nonInviteClient();
  // RFC 3261 §17.1.2.2: 500, 1000, 2000, then 4000 (T2) until Timer F at 32000.
  t.same(sendTimes(h, 40_000), [500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500]);
  t.equal(h.tx.state, 'Terminated');
});

t.test('non-INVITE client tx: T1 and T2 are configurable', async (t) => {
  const h = await nonInviteClient({ timers: { T1: 100, T2: 300 } });
  t.same(sendTimes(h, 1_500, 10), [100, 300, 600, 900, 1200, 1500]);
});

t.test('non-INVITE client tx: Timer E retransmissions reuse one serialised Buffer', async (t) => {
  const h = await nonInviteClient();
  h.clock.advance(1500);
  t.equal(h.transport.sent[1]?.data, h.transport.sent[2]?.data);
  t.equal(h.transport.sent[1]?.data.toString(), h.transport.sent[0]?.data.toString());
});

t.test('non-INVITE client tx: Timer E in Proceeding retransmits every T2', async (t) => {
  const h = await nonInviteClient();
  h.clock.advance(600); // one retransmission at 500, next due at 1500
  h.tx.receiveResponse(response(h.tx.request, 100));
  t.equal(h.tx.state, 'Proceeding');
  t.same(sendTimes(h, 14_000), [1500, 5500, 9500, 13500]);
});

t.test(
  'non-INVITE client tx: Timer F in Trying moves to Terminated and reports a timeout',
  async (t) => {
    const h = await nonInviteClient();
    h.clock.advance(31_999);
    t.equal(h.tx.state, 'Trying');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'timeout']);
    t.equal(h.clock.pending, 0);
  },
);

t.test(
  'non-INVITE client tx: Timer F in Proceeding moves to Terminated and reports a timeout',
  async (t) => {
    const h = await nonInviteClient();
    h.tx.receiveResponse(response(h.tx.request, 100));
    h.clock.advance(32_000);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 100', 'terminated', 'timeout']);
  },
);

t.test(
  'non-INVITE client tx: reliable transport runs no Timer E, Timer F still fires',
  async (t) => {
    const h = await nonInviteClient({ protocol: 'tls' });
    t.same(sendTimes(h, 40_000), []);
    t.same(h.events, ['terminated', 'timeout']);
  },
);

t.test('non-INVITE client tx: 1xx in Trying moves to Proceeding and goes to the TU', async (t) => {
  const h = await nonInviteClient();
  h.tx.receiveResponse(response(h.tx.request, 100));
  t.equal(h.tx.state, 'Proceeding');
  t.same(h.events, ['response 100']);
});

t.test(
  'non-INVITE client tx: 1xx in Proceeding stays in Proceeding and goes to the TU',
  async (t) => {
    const h = await nonInviteClient();
    h.tx.receiveResponse(response(h.tx.request, 100));
    h.tx.receiveResponse(response(h.tx.request, 180));
    t.equal(h.tx.state, 'Proceeding');
    t.same(h.events, ['response 100', 'response 180']);
  },
);

t.test(
  'non-INVITE client tx: 200-699 in Trying moves to Completed and stops Timers E and F',
  async (t) => {
    const h = await nonInviteClient();
    h.tx.receiveResponse(response(h.tx.request, 200));
    t.equal(h.tx.state, 'Completed');
    t.same(h.events, ['response 200']);
    t.same(sendTimes(h, 4_000), [], 'no retransmission');
  },
);

t.test('non-INVITE client tx: 200-699 in Proceeding moves to Completed', async (t) => {
  const h = await nonInviteClient();
  h.tx.receiveResponse(response(h.tx.request, 100));
  h.tx.receiveResponse(response(h.tx.request, 404));
  t.equal(h.tx.state, 'Completed');
  t.same(h.events, ['response 100', 'response 404']);
});

t.test('non-INVITE client tx: responses in Completed are absorbed', async (t) => {
  const h = await nonInviteClient();
  h.tx.receiveResponse(response(h.tx.request, 200));
  h.tx.receiveResponse(response(h.tx.request, 200));
  h.tx.receiveResponse(response(h.tx.request, 100));
  t.same(h.events, ['response 200']);
});

t.test(
  'non-INVITE client tx: Timer K in Completed moves to Terminated after T4 (unreliable)',
  async (t) => {
    const h = await nonInviteClient({ timers: { T4: 2_500 } });
    h.tx.receiveResponse(response(h.tx.request, 200));
    h.clock.advance(2_499);
    t.equal(h.tx.state, 'Completed');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 200', 'terminated']);
    t.equal(h.clock.pending, 0);
  },
);

t.test('non-INVITE client tx: Timer K is 0 on a reliable transport', async (t) => {
  const h = await nonInviteClient({ protocol: 'tcp' });
  h.tx.receiveResponse(response(h.tx.request, 200));
  t.equal(h.tx.state, 'Terminated');
  t.same(h.events, ['response 200', 'terminated']);
});

t.test(
  'non-INVITE client tx: transport error in Trying moves to Terminated and informs the TU',
  async (t) => {
    const h = await nonInviteClient({ failFirstSend: true });
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'transport-error SIP_ERR_TRANSPORT']);
    t.equal(h.clock.pending, 0);
  },
);

t.test(
  'non-INVITE client tx: transport error in Proceeding moves to Terminated and informs the TU',
  async (t) => {
    const h = await nonInviteClient();
    h.tx.receiveResponse(response(h.tx.request, 100));
    h.transport.failNext();
    h.clock.advance(500);
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 100', 'terminated', 'transport-error SIP_ERR_TRANSPORT']);
  },
);

t.test('non-INVITE client tx: transport error in Completed is ignored', async (t) => {
  const h = await nonInviteClient();
  h.tx.receiveResponse(response(h.tx.request, 200));
  h.tx.receiveTransportError(new Error('late'));
  t.equal(h.tx.state, 'Completed');
});

t.test(
  'non-INVITE client tx: a UDP request the transport moved to TCP is not retransmitted',
  async (t) => {
    const h = await nonInviteClient({ flowProtocol: 'tcp' });
    t.same(sendTimes(h, 5_000), []);
    h.tx.receiveResponse(response(h.tx.request, 200));
    t.equal(h.tx.state, 'Terminated', 'Timer K = 0 once the flow is reliable');
  },
);

t.test('non-INVITE client tx: dispose() stops every timer and is safe twice', async (t) => {
  const h = await nonInviteClient();
  h.tx.dispose();
  h.tx.dispose();
  t.equal(h.tx.state, 'Terminated');
  t.equal(h.clock.pending, 0);
  t.same(h.events, ['terminated']);
});
