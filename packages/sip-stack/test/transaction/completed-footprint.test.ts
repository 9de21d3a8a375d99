import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import { DeadlineQueue } from '../../src/transaction/deadline-queue.js';
import { TransactionLayer } from '../../src/transaction/transaction-layer.js';
import { ManualClock } from '../../src/util/clock.js';
import { flush, RecordingTransport } from '../support/recording-transport.js';
import { flow, incoming, request } from './messages.js';

function setup(statelessChallenges?: readonly string[]) {
  const clock = new ManualClock();
  const transport = new RecordingTransport();
  const layer = new TransactionLayer({
    transport,
    clock,
    ...(statelessChallenges === undefined ? {} : { statelessChallenges }),
  });
  const requests: ServerTransaction[] = [];
  layer.setUser({
    onRequest: (tx) => requests.push(tx),
    onStrayAck: () => undefined,
    onStrayResponse: () => undefined,
  });
  return { clock, transport, layer, requests };
}

const register = () => request({ method: 'REGISTER', uri: 'sip:example.com' });

t.test(
  'transaction layer: a 401 to REGISTER is sent as a stateless UAS; a retransmission reaches the TU again (RFC 3261 §8.2.7)',
  async (t) => {
    const h = setup();
    h.layer.receive(incoming(register()));
    const first = h.requests[0];
    t.ok(first);
    first?.respond(createResponse(first.request, 401, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(first?.state, 'Terminated');
    t.equal(h.layer.stats().serverTransactions, 0, 'nothing kept for the challenge');
    h.layer.receive(incoming(register()));
    t.equal(h.requests.length, 2, 'the retransmission is a new request for the TU');
    t.end();
  },
);

t.test(
  'transaction layer: with statelessChallenges [] a 401 waits in Completed and absorbs retransmissions',
  async (t) => {
    const h = setup([]);
    h.layer.receive(incoming(register()));
    const tx = h.requests[0];
    tx?.respond(createResponse(tx.request, 401, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(tx?.state, 'Completed');
    h.layer.receive(incoming(register()));
    await flush();
    t.equal(h.requests.length, 1);
    t.same(h.transport.startLines(), ['SIP/2.0 401 Unauthorized', 'SIP/2.0 401 Unauthorized']);
    t.end();
  },
);

t.test(
  'non-INVITE server tx: in Completed over UDP it keeps bytes only, resends them and still names its request',
  async (t) => {
    const h = setup();
    h.layer.receive(incoming(register()));
    const tx = h.requests[0];
    if (tx === undefined || tx.kind !== 'non-invite-server') throw new Error('no transaction');
    tx.respond(createResponse(tx.request, 200, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(tx.state, 'Completed');
    t.equal(tx.lastResponse, undefined, 'the response object is not kept');
    const r = tx.request;
    t.equal(r.method, 'REGISTER');
    t.equal(r.uri, 'sip:example.com');
    t.equal(r.callId, 'call-1@pc33');
    t.equal(r.fromTag, 'a1');
    t.equal(r.cseq.seq, 1);
    t.equal(r.topVia?.branch, 'z9hG4bKabc123');
    h.layer.receive(incoming(register()));
    h.layer.receive(incoming(register()));
    await flush();
    const sent = h.transport.sent;
    t.equal(sent.length, 3);
    t.equal(sent[1]?.data.toString('latin1'), sent[0]?.data.toString('latin1'), 'same bytes again');
    t.equal(sent[2]?.data, sent[1]?.data, 'one Buffer for every retransmission');
    h.clock.advance(64 * 500);
    t.equal(tx.state, 'Terminated', 'Timer J of the shared queue');
    t.equal(h.layer.stats().serverTransactions, 0);
    t.end();
  },
);

t.test(
  'non-INVITE server tx: a UDP reply to the source keeps one target (the flow the response went out on)',
  async (t) => {
    const h = setup();
    const udp = { ...flow('udp'), flowId: 'udp:127.0.0.1:5060->192.0.2.10:5070' };
    udp.remote = { address: '192.0.2.10', port: 5070 };
    const req = request({
      method: 'REGISTER',
      uri: 'sip:example.com',
      viaParams: 'rport=5070;received=192.0.2.10',
    });
    h.layer.receive(incoming(req, udp));
    const tx = h.requests[0];
    if (tx === undefined) throw new Error('no transaction');
    const target = tx.target;
    t.same(
      [target.address, target.port, target.flowId, target.address === udp.remote.address],
      ['192.0.2.10', 5070, udp.flowId, true],
      'RFC 3581 §4: to the source, out of the receiving socket',
    );
    tx.respond(createResponse(tx.request, 200, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(tx.state, 'Completed');
    t.equal(tx.target, target, 'the flow it went out on is the target it had: no copy kept');
    h.layer.receive(incoming(req, udp));
    await flush();
    t.same(
      h.transport.sent.map((s) => [s.target.address, s.target.port]),
      [
        ['192.0.2.10', 5070],
        ['192.0.2.10', 5070],
      ],
    );
    t.end();
  },
);

t.test('deadline queue: items expire in order after the delay; clear() forgets them', (t) => {
  const clock = new ManualClock();
  const q = new DeadlineQueue(clock, 1000);
  const fired: string[] = [];
  const item = (name: string) => ({ expire: () => fired.push(name) });
  q.add(item('a'));
  clock.advance(400);
  q.add(item('b'));
  clock.advance(599);
  t.same(fired, []);
  clock.advance(1);
  t.same(fired, ['a']);
  clock.advance(400);
  t.same(fired, ['a', 'b']);
  t.equal(q.size, 0);
  q.add(item('c'));
  q.clear();
  clock.advance(5000);
  t.same(fired, ['a', 'b'], 'cleared items never fire');
  t.end();
});

t.test('deadline queue: thousands of items need one timer and all fire', (t) => {
  const clock = new ManualClock();
  const q = new DeadlineQueue(clock, 100);
  let fired = 0;
  for (let i = 0; i < 5000; i++) {
    q.add({ expire: () => fired++ });
    if (i % 50 === 0) clock.advance(1);
  }
  clock.advance(200);
  t.equal(fired, 5000);
  t.equal(q.size, 0);
  t.end();
});
