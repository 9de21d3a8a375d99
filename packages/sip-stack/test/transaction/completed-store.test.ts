import t, { type Test } from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { ServerTransaction } from '../../src/transaction/transaction.js';
import { ManualClock } from '../../src/util/clock.js';
import { startEndpoint } from '../support/endpoint-harness.js';
import { sipRequest, udpPeer } from '../support/sip-peers.js';

const TIMER_J = 64 * 500;

/** An endpoint over UDP answering OPTIONS with 200, and a raw peer sending them. */
async function setup(t: Test) {
  const clock = new ManualClock();
  const ep = await startEndpoint(t, 'udp', { clock });
  const port = ep.listeningPoints()[0]!.local.port;
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  const seen: ServerTransaction[] = [];
  let n = 0;
  ep.onRequest('OPTIONS', (req) => {
    seen.push(req.transaction);
    req.respond(200, { headers: { 'X-Answer': String(++n) } });
  });
  const request = sipRequest({
    via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKstore1;rport`,
    callId: 'store-1',
  });
  return { clock, ep, port, peer, seen, request };
}

t.test(
  'completed over UDP: a retransmission gets the same final from the store, the TU sees one request (RFC 3261 §17.2.2)',
  async (t) => {
    const { ep, port, peer, seen, request } = await setup(t);
    await peer.send(request, port);
    const first = await peer.received.next();
    t.equal(seen.length, 1);
    t.equal(seen[0]?.state, 'Completed');
    t.equal(ep.transactions.stats().serverTransactions, 1, 'counted while in the store');
    const parsedRequest = parseMessage(Buffer.from(request));
    t.ok(parsedRequest.ok && parsedRequest.message.kind === 'request');
    if (parsedRequest.ok && parsedRequest.message.kind === 'request')
      t.equal(
        ep.transactions.findServerTransaction(parsedRequest.message),
        undefined,
        'the transaction left the heap table for the store',
      );
    await peer.send(request, port);
    const again = await peer.received.next();
    t.ok(again.equals(first), 'byte for byte the first final');
    t.equal(seen.length, 1, 'the TU was not asked again');
    t.equal(ep.transactions.stats().retransmittedRequests, 1);
    const parsed = parseMessage(again);
    t.ok(parsed.ok && parsed.message.kind === 'response' && parsed.message.status === 200);
  },
);

t.test(
  'completed over UDP: after Timer J the transaction reads Terminated and the same request is new',
  async (t) => {
    const { clock, ep, port, peer, seen, request } = await setup(t);
    await peer.send(request, port);
    await peer.received.next();
    clock.advance(TIMER_J - 1);
    t.equal(seen[0]?.state, 'Completed', 'still Completed just before 64*T1');
    clock.advance(1);
    t.equal(seen[0]?.state, 'Terminated', 'Terminated at 64*T1');
    t.equal(ep.transactions.stats().serverTransactions, 0, 'swept');
    await peer.send(request, port);
    const second = parseMessage(await peer.received.next());
    t.equal(seen.length, 2, 'a new transaction for the TU');
    t.equal(
      second.ok && second.message.kind === 'response' && second.message.headers.get('X-Answer'),
      '2',
    );
  },
);

t.test(
  'completed over UDP: the request stays readable from the transaction while it is stored',
  async (t) => {
    const { port, peer, seen, request } = await setup(t);
    await peer.send(request, port);
    await peer.received.next();
    const tx = seen[0]!;
    t.equal(tx.request.method, 'OPTIONS');
    t.equal(tx.request.callId, 'store-1');
    t.equal(tx.request.topVia?.branch, 'z9hG4bKstore1');
  },
);

t.test('completed over UDP: dispose forgets the stored final', async (t) => {
  const { ep, port, peer, seen, request } = await setup(t);
  await peer.send(request, port);
  await peer.received.next();
  seen[0]?.dispose();
  t.equal(seen[0]?.state, 'Terminated');
  await peer.send(request, port);
  await peer.received.next();
  t.equal(seen.length, 2, 'the retransmission became a new transaction');
  t.equal(ep.transactions.stats().retransmittedRequests, 0);
});
