/**
 * A challenge to an INVITE sent as from a stateless UAS (RFC 3261 §8.2.7, §26.3.2.4), over real
 * UDP: the layer's `statelessChallenges` with 'INVITE'.
 */
import t, { type Test } from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { parseMessage } from '../../src/message/parse-message.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import { TransactionLayer } from '../../src/transaction/transaction-layer.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { ManualClock } from '../../src/util/clock.js';
import { sipRequest, udpPeer } from '../support/sip-peers.js';

const TIMER_H = 64 * 500;

async function setup(t: Test, statelessChallenges?: readonly string[]) {
  const clock = new ManualClock();
  const transport = new TransportLayer({ clock });
  t.teardown(() => transport.close());
  const point = await transport.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  const layer = new TransactionLayer({
    transport,
    clock,
    ...(statelessChallenges === undefined ? {} : { statelessChallenges }),
  });
  transport.onMessage((m) => layer.receive(m));
  const requests: ServerTransaction[] = [];
  const strayAcks: string[] = [];
  layer.setUser({
    onRequest: (tx) => requests.push(tx),
    onStrayAck: (m) => void strayAcks.push(m.message.kind === 'request' ? m.message.method : ''),
    onStrayResponse: () => undefined,
  });
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const via = `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKchal1;rport`;
  const invite = sipRequest({ method: 'INVITE', via, callId: 'chal-1' });
  const ack = (toTag: string) =>
    sipRequest({ method: 'ACK', via, callId: 'chal-1', cseq: '1 ACK' }).replace(
      'To: <sip:service@example.test>',
      `To: <sip:service@example.test>;tag=${toTag}`,
    );
  /** Sends `text` and waits until the layer had it (a reply, or the TU or stray-ACK counts move). */
  const deliver = async (text: string) => {
    const before = requests.length + strayAcks.length + layer.stats().retransmittedRequests;
    const absorbedBefore = received;
    await peer.send(text, point.local.port);
    for (let i = 0; i < 200; i++) {
      const now = requests.length + strayAcks.length + layer.stats().retransmittedRequests;
      if (now !== before || received !== absorbedBefore) return;
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  let received = 0;
  peer.socket.on('message', () => received++);
  const parsedInvite = parseMessage(Buffer.from(invite));
  if (!parsedInvite.ok || parsedInvite.message.kind !== 'request') throw new Error('bad INVITE');
  return {
    clock,
    layer,
    peer,
    port: point.local.port,
    requests,
    strayAcks,
    invite,
    ack,
    deliver,
    parsedInvite: parsedInvite.message,
  };
}

t.test(
  "with 'INVITE': a 407 over UDP is sent once and keeps no transaction; a retransmitted INVITE gets the same 407; its ACK is absorbed",
  async (t) => {
    const h = await setup(t, ['REGISTER', 'INVITE']);
    await h.deliver(h.invite);
    const tx = h.requests[0];
    if (tx === undefined || tx.kind !== 'invite-server') throw new Error('no transaction');
    tx.respond(createResponse(tx.request, 407, undefined, { toTag: 'c1' }));
    const first = await h.peer.received.next();
    t.match(first.toString('latin1'), /^SIP\/2\.0 407 /);
    t.equal(tx.state, 'Terminated', 'the transaction ended as the challenge went out');
    t.equal(h.layer.findServerTransaction(h.parsedInvite), undefined, 'nothing in the table');
    t.equal(h.layer.stats().serverTransactions, 1, 'the stored challenge is counted');

    h.clock.advance(500 + 1000 + 2000 + 4000);
    await h.deliver(h.invite);
    const again = await h.peer.received.next();
    t.ok(again.equals(first), 'the retransmitted INVITE gets the same 407, byte for byte');
    t.equal(h.requests.length, 1, 'and never reaches the TU');
    t.equal(h.layer.stats().retransmittedRequests, 1);

    await h.deliver(h.ack('c1'));
    await new Promise((r) => setTimeout(r, 50));
    t.same(h.strayAcks, [], 'the ACK for the challenge is absorbed');
    t.equal(h.layer.stats().strayAcks, 0);
    t.equal(h.peer.received.size, 0, 'no Timer G: nothing else was sent');

    h.clock.advance(TIMER_H);
    t.equal(h.layer.stats().serverTransactions, 0, 'the stored challenge is gone after 64*T1');
    await h.deliver(h.invite);
    t.equal(h.requests.length, 2, 'then the same INVITE is a new request for the TU');
  },
);

t.test(
  "with 'INVITE': other finals keep the RFC 3261 §17.2.1 transaction, retransmitted until the ACK",
  async (t) => {
    const h = await setup(t, ['REGISTER', 'INVITE']);
    await h.deliver(h.invite);
    const tx = h.requests[0];
    if (tx === undefined) throw new Error('no transaction');
    tx.respond(createResponse(tx.request, 486, undefined, { toTag: 'd1' }));
    await h.peer.received.next();
    t.equal(tx.state, 'Completed');
    h.clock.advance(500);
    const retransmitted = await h.peer.received.next();
    t.match(retransmitted.toString('latin1'), /^SIP\/2\.0 486 /, 'Timer G');
    await h.deliver(h.ack('d1'));
    await new Promise((r) => setTimeout(r, 50));
    t.equal(tx.state, 'Confirmed', 'the transaction took the ACK');
    t.same(h.strayAcks, []);
  },
);

t.test('by default a 407 to an INVITE waits in Completed and is retransmitted', async (t) => {
  const h = await setup(t);
  await h.deliver(h.invite);
  const tx = h.requests[0];
  if (tx === undefined) throw new Error('no transaction');
  tx.respond(createResponse(tx.request, 407, undefined, { toTag: 'e1' }));
  await h.peer.received.next();
  t.equal(tx.state, 'Completed');
  h.clock.advance(500);
  t.match((await h.peer.received.next()).toString('latin1'), /^SIP\/2\.0 407 /, 'Timer G');
  await h.deliver(h.ack('e1'));
  await new Promise((r) => setTimeout(r, 50));
  t.equal(tx.state, 'Confirmed');
});
