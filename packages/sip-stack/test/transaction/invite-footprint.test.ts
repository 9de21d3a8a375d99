import { createSocket } from 'node:dgram';
import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { TransactionTimer } from '../../src/transaction/transaction-timer.js';
import { systemClock } from '../../src/util/clock.js';
import { flush } from '../support/recording-transport.js';
import { inviteClient } from './client-harness.js';
import { response } from './messages.js';
import { inviteServer } from './server-harness.js';

t.test(
  'INVITE server tx: in Accepted over UDP it keeps bytes only and its accessors still answer (RFC 6026 §7.1)',
  async (t) => {
    const h = inviteServer();
    const ok = createResponse(h.tx.request, 200, undefined, { toTag: 'b1', body: 'v=0\r\n' });
    h.tx.respond(ok);
    await flush();
    t.equal(h.tx.state, 'Accepted');
    const last = h.tx.lastResponse;
    t.not(last, ok, 'the response object is let go');
    t.equal(last?.status, 200, 'lastResponse parses the kept bytes');
    t.equal(last?.toTag, 'b1');
    t.equal(last?.body.toString(), 'v=0\r\n');
    t.equal(h.tx.lastResponseToTag, 'b1');
    const r = h.tx.request;
    t.equal(r.method, 'INVITE', 'the request is rebuilt from its line and the response');
    t.equal(r.uri, 'sip:bob@example.com');
    t.equal(r.callId, 'call-1@pc33');
    t.equal(r.topVia?.branch, 'z9hG4bKabc123');
    h.tx.respond(ok);
    h.tx.respond(ok);
    await flush();
    t.equal(h.transport.sent.length, 3, 'the TU passing the same 2xx again still resends it');
    t.equal(h.transport.sent[2]?.data, h.transport.sent[1]?.data, 'from one Buffer');
  },
);

t.test(
  'INVITE server tx: a non-2xx final over UDP is kept as bytes and resent identically on Timer G',
  async (t) => {
    const h = inviteServer();
    h.tx.respond(createResponse(h.tx.request, 407, undefined, { toTag: 'b1' }));
    await flush();
    t.equal(h.tx.state, 'Completed');
    h.clock.advance(500);
    await flush();
    const sent = h.transport.sent;
    t.equal(sent.length, 2);
    t.equal(sent[1]?.data.toString('latin1'), sent[0]?.data.toString('latin1'));
    t.equal(h.tx.lastResponse?.status, 407);
    t.equal(h.tx.request.method, 'INVITE');
  },
);

t.test(
  'INVITE server tx: over TCP the request and response objects are kept as they are',
  async (t) => {
    const h = inviteServer({ protocol: 'tcp' });
    const req = h.tx.request;
    const ok = createResponse(req, 200, undefined, { toTag: 'b1' });
    h.tx.respond(ok);
    await flush();
    t.equal(h.tx.lastResponse, ok);
    t.equal(h.tx.request, req);
  },
);

t.test(
  'INVITE client tx: in Accepted over UDP it keeps the bytes it sent; request parses them',
  async (t) => {
    const h = await inviteClient();
    const sentBytes = h.transport.sent[0]?.data.toString('latin1');
    const original = h.tx.request;
    h.tx.receiveResponse(response(original, 200));
    t.equal(h.tx.state, 'Accepted');
    const again = h.tx.request;
    t.not(again, original, 'the request object is let go');
    t.equal(again.toBuffer().toString('latin1'), sentBytes, 'equal to what was sent');
    t.same(h.events, ['response 200']);
  },
);

/** A datagram waiting in a socket while the loop is busy, and a timer that expired meanwhile. */
async function raceTimerAgainstDatagram(afterIo: boolean): Promise<string[]> {
  const order: string[] = [];
  const sock = createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  const timer = new TransactionTimer(systemClock, () => order.push('timer'), { afterIo });
  sock.on('message', () => {
    order.push('datagram');
    timer.stop(); // what a response does to a retransmission timer
  });
  const { port } = sock.address();
  await new Promise<void>((resolve) => sock.send('x', port, '127.0.0.1', () => resolve()));
  timer.start(1);
  const until = performance.now() + 20;
  while (performance.now() < until); // the loop is busy: the timer expires, the datagram waits
  await new Promise((resolve) => setTimeout(resolve, 30));
  sock.close();
  return order;
}

t.test(
  'retransmission timer: after a busy loop, a response already in the socket is read before the timer acts',
  async (t) => {
    t.same(await raceTimerAgainstDatagram(true), ['datagram'], 'the stopped timer never fires');
    t.same(
      await raceTimerAgainstDatagram(false),
      ['timer', 'datagram'],
      'a plain timer fires first (what afterIo prevents)',
    );
  },
);
