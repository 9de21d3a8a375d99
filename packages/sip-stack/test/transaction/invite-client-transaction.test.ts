import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { flush } from '../support/recording-transport.js';
import { inviteClient, sendTimes } from './client-harness.js';
import { response } from './messages.js';

t.test('INVITE client tx: start sends the INVITE and enters Calling', async (t) => {
  const h = await inviteClient();
  t.equal(h.tx.state, 'Calling');
  t.same(h.transport.startLines(), ['INVITE sip:bob@example.com SIP/2.0']);
  t.equal(h.tx.key, 'z9hG4bKclient1 INVITE');
});

t.test(
  'INVITE client tx: Timer A retransmits at T1, 2T1, 4T1... until Timer B (unreliable)',
  async (t) => {
    const h = await inviteClient();
    // RFC 3261 §17.1.1.2: 500, 1500, 3500, 7500, 15500, 31500 ms; Timer B at 32000.
    t.same(sendTimes(h, 40_000), [500, 1500, 3500, 7500, 15500, 31500]);
    t.equal(h.tx.state, 'Terminated');
  },
);

t.test('INVITE client tx: Timer A is not capped by T2', async (t) => {
  const h = await inviteClient({ timers: { T1: 100, T2: 150 } });
  t.same(sendTimes(h, 6_400, 10), [100, 300, 700, 1500, 3100, 6300]);
});

t.test('INVITE client tx: Timer A retransmissions reuse one serialised Buffer', async (t) => {
  const h = await inviteClient();
  h.clock.advance(1500);
  const [first, second, third] = h.transport.sent;
  t.ok(first !== undefined && second !== undefined && third !== undefined);
  t.equal(second?.raw, true);
  t.equal(second?.data, third?.data, 'same Buffer object');
  t.equal(second?.data.toString(), first?.data.toString(), 'same bytes as the first copy');
});

t.test(
  'INVITE client tx: retransmissions go through send() when the transport takes no bytes',
  async (t) => {
    const h = await inviteClient({ sendBuffer: false });
    h.clock.advance(1500);
    t.equal(h.transport.sent.length, 3);
    t.ok(h.transport.sent.every((s) => !s.raw));
  },
);

t.test(
  'INVITE client tx: Timer B in Calling moves to Terminated and reports a timeout',
  async (t) => {
    const h = await inviteClient();
    h.clock.advance(31_999);
    t.equal(h.tx.state, 'Calling');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'timeout']);
    t.equal(h.clock.pending, 0);
  },
);

t.test('INVITE client tx: reliable transport runs no Timer A, Timer B still fires', async (t) => {
  const h = await inviteClient({ protocol: 'tcp' });
  t.equal(h.tx.reliable, true);
  t.same(sendTimes(h, 40_000), []);
  t.same(h.events, ['terminated', 'timeout']);
});

t.test('INVITE client tx: T1 is configurable (Timer B = 64*T1)', async (t) => {
  const h = await inviteClient({ timers: { T1: 100 } });
  h.clock.advance(6_399);
  t.equal(h.tx.state, 'Calling');
  h.clock.advance(1);
  t.equal(h.tx.state, 'Terminated');
});

t.test(
  'INVITE client tx: 1xx in Calling moves to Proceeding and stops Timers A and B',
  async (t) => {
    const h = await inviteClient();
    h.tx.receiveResponse(response(h.tx.request, 180));
    t.equal(h.tx.state, 'Proceeding');
    t.same(h.events, ['response 180']);
    t.same(sendTimes(h, 60_000, 500), [], 'no retransmission in Proceeding');
    t.equal(h.tx.state, 'Proceeding', 'Timer B does not run in Proceeding');
    t.equal(h.clock.pending, 0);
  },
);

t.test('INVITE client tx: 1xx in Proceeding stays in Proceeding and goes to the TU', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 100));
  h.tx.receiveResponse(response(h.tx.request, 183));
  t.equal(h.tx.state, 'Proceeding');
  t.same(h.events, ['response 100', 'response 183']);
});

t.test('INVITE client tx: 2xx in Calling moves to Accepted (RFC 6026)', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 200));
  t.equal(h.tx.state, 'Accepted');
  t.same(h.events, ['response 200']);
  t.equal(h.transport.sent.length, 1, 'the transaction sends no ACK for a 2xx');
  t.same(sendTimes(h, 5_000), [], 'no retransmission in Accepted');
});

t.test('INVITE client tx: 2xx in Proceeding moves to Accepted (RFC 6026)', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 180));
  h.tx.receiveResponse(response(h.tx.request, 200));
  t.equal(h.tx.state, 'Accepted');
  t.same(h.events, ['response 180', 'response 200']);
});

t.test(
  'INVITE client tx: 2xx retransmissions and forked 2xx in Accepted go to the TU (RFC 6026)',
  async (t) => {
    const h = await inviteClient();
    h.tx.receiveResponse(response(h.tx.request, 200, { toTag: 'fork1' }));
    h.tx.receiveResponse(response(h.tx.request, 200, { toTag: 'fork1' }));
    h.tx.receiveResponse(response(h.tx.request, 200, { toTag: 'fork2' }));
    t.equal(h.tx.state, 'Accepted');
    t.same(h.events, ['response 200', 'response 200', 'response 200']);
    t.same(
      h.responses.map((r) => r.toTag),
      ['fork1', 'fork1', 'fork2'],
    );
  },
);

t.test('INVITE client tx: 1xx and non-2xx in Accepted are absorbed', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 200));
  h.tx.receiveResponse(response(h.tx.request, 180));
  h.tx.receiveResponse(response(h.tx.request, 486));
  t.equal(h.tx.state, 'Accepted');
  t.same(h.events, ['response 200']);
  t.equal(h.transport.sent.length, 1, 'no ACK for the stray 486');
});

t.test(
  'INVITE client tx: Timer M in Accepted moves to Terminated after 64*T1 (RFC 6026)',
  async (t) => {
    const h = await inviteClient();
    h.clock.advance(1000);
    h.tx.receiveResponse(response(h.tx.request, 200));
    h.clock.advance(31_999);
    t.equal(h.tx.state, 'Accepted');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 200', 'terminated']);
  },
);

t.test(
  'INVITE client tx: 300-699 in Calling moves to Completed and sends the ACK (RFC 3261 §17.1.1.3)',
  async (t) => {
    const h = await inviteClient();
    const resp = response(h.tx.request, 486, { toTag: 'busy1' });
    h.tx.receiveResponse(resp);
    t.equal(h.tx.state, 'Completed');
    t.same(h.events, ['response 486']);
    t.equal(h.transport.sent.length, 2);
    const wire = parseMessage(h.transport.sent[1]?.data ?? Buffer.alloc(0));
    t.ok(wire.ok);
    if (!wire.ok || wire.message.kind !== 'request') return;
    const ack = wire.message;
    t.equal(ack.method, 'ACK');
    t.equal(ack.uri, h.tx.request.uri, 'Request-URI of the INVITE');
    t.equal(ack.topVia?.branch, 'z9hG4bKclient1', 'same branch as the INVITE');
    t.equal(ack.via.length, 1, 'a single Via');
    t.equal(ack.toTag, 'busy1', 'To tag of the response');
    t.same(ack.cseq, { seq: 1, method: 'ACK' });
    t.equal(ack.callId, h.tx.request.callId);
    t.same(h.transport.sent[1]?.target, h.transport.sent[0]?.target, 'same target as the INVITE');
    t.equal(h.tx.ack?.method, 'ACK');
  },
);

t.test(
  'INVITE client tx: 300-699 in Proceeding moves to Completed and sends the ACK',
  async (t) => {
    const h = await inviteClient();
    h.tx.receiveResponse(response(h.tx.request, 180));
    h.tx.receiveResponse(response(h.tx.request, 603));
    t.equal(h.tx.state, 'Completed');
    t.same(h.transport.startLines(), [
      'INVITE sip:bob@example.com SIP/2.0',
      'ACK sip:bob@example.com SIP/2.0',
    ]);
  },
);

t.test(
  'INVITE client tx: retransmitted final in Completed re-sends the ACK, not passed to the TU',
  async (t) => {
    const h = await inviteClient();
    h.tx.receiveResponse(response(h.tx.request, 404));
    await flush();
    h.tx.receiveResponse(response(h.tx.request, 404));
    h.tx.receiveResponse(response(h.tx.request, 404));
    t.same(h.events, ['response 404']);
    t.equal(h.transport.sent.length, 4);
    t.same(h.transport.startLines().slice(1), [
      'ACK sip:bob@example.com SIP/2.0',
      'ACK sip:bob@example.com SIP/2.0',
      'ACK sip:bob@example.com SIP/2.0',
    ]);
    t.equal(h.transport.sent[2]?.data, h.transport.sent[3]?.data, 'the ACK bytes are reused');
  },
);

t.test('INVITE client tx: 1xx and 2xx in Completed are absorbed', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 500));
  h.tx.receiveResponse(response(h.tx.request, 180));
  h.tx.receiveResponse(response(h.tx.request, 200));
  t.equal(h.tx.state, 'Completed');
  t.same(h.events, ['response 500']);
  t.equal(h.transport.sent.length, 2);
});

t.test(
  'INVITE client tx: Timer D in Completed moves to Terminated after 32 s (unreliable)',
  async (t) => {
    const h = await inviteClient();
    h.tx.receiveResponse(response(h.tx.request, 486));
    h.clock.advance(31_999);
    t.equal(h.tx.state, 'Completed');
    h.clock.advance(1);
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 486', 'terminated']);
    t.equal(h.clock.pending, 0);
  },
);

t.test('INVITE client tx: Timer D is configurable', async (t) => {
  const h = await inviteClient({ timers: { timerD: 40_000 } });
  h.tx.receiveResponse(response(h.tx.request, 486));
  h.clock.advance(39_999);
  t.equal(h.tx.state, 'Completed');
  h.clock.advance(1);
  t.equal(h.tx.state, 'Terminated');
});

t.test(
  'INVITE client tx: Timer D is 0 on a reliable transport (Completed → Terminated at once)',
  async (t) => {
    const h = await inviteClient({ protocol: 'tcp' });
    h.tx.receiveResponse(response(h.tx.request, 486));
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 486', 'terminated']);
    t.same(h.transport.startLines()[1], 'ACK sip:bob@example.com SIP/2.0', 'the ACK is still sent');
  },
);

t.test(
  'INVITE client tx: transport error in Calling moves to Terminated and informs the TU',
  async (t) => {
    const h = await inviteClient({ failFirstSend: true });
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['terminated', 'transport-error SIP_ERR_TRANSPORT']);
    t.equal(h.clock.pending, 0, 'Timers A and B stopped');
  },
);

t.test(
  'INVITE client tx: transport error in Completed (ACK send) moves to Terminated and informs the TU',
  async (t) => {
    const h = await inviteClient();
    h.transport.failNext();
    h.tx.receiveResponse(response(h.tx.request, 486));
    await flush();
    t.equal(h.tx.state, 'Terminated');
    t.same(h.events, ['response 486', 'terminated', 'transport-error SIP_ERR_TRANSPORT']);
  },
);

t.test('INVITE client tx: transport error in Accepted is ignored', async (t) => {
  const h = await inviteClient();
  h.tx.receiveResponse(response(h.tx.request, 200));
  h.tx.receiveTransportError(new Error('late failure'));
  t.equal(h.tx.state, 'Accepted');
  t.same(h.events, ['response 200']);
});

t.test(
  'INVITE client tx: a UDP request the transport moved to TCP is not retransmitted (RFC 3261 §18.1.1)',
  async (t) => {
    const h = await inviteClient({ flowProtocol: 'tcp' });
    t.equal(h.tx.reliable, true);
    t.same(sendTimes(h, 5_000), []);
  },
);

t.test('INVITE client tx: responses in Terminated are ignored', async (t) => {
  const h = await inviteClient();
  h.clock.advance(32_000);
  h.tx.receiveResponse(response(h.tx.request, 200));
  t.same(h.events, ['terminated', 'timeout']);
});

t.test('INVITE client tx: dispose() stops every timer and is safe twice', async (t) => {
  const h = await inviteClient();
  h.tx.dispose();
  h.tx.dispose();
  t.equal(h.tx.state, 'Terminated');
  t.equal(h.clock.pending, 0);
  t.same(h.events, ['terminated'], 'terminated reported once, no timeout');
});

t.test(
  'INVITE client tx: the TU may dispose the transaction while handling a final response',
  async (t) => {
    const h = await inviteClient();
    const resp = response(h.tx.request, 486);
    const original = h.events.push.bind(h.events);
    h.events.push = (...items: string[]) => {
      const n = original(...items);
      if (items[0] === 'response 486') h.tx.dispose();
      return n;
    };
    h.tx.receiveResponse(resp);
    t.equal(h.tx.state, 'Terminated');
    t.equal(h.clock.pending, 0, 'Timer D not armed after dispose');
  },
);
