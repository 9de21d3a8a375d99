import t from 'tap';
import type { Test } from 'tap';
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { createResponse } from '../../src/message/build-response.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { responseTarget } from '../../src/transport/via-stamping.js';
import type { Flow, FlowCloseReason } from '../../src/transport/transport.js';
import { ManualClock } from '../../src/util/clock.js';
import {
  AsyncQueue,
  collect,
  countResponses,
  parseRequestText,
  sipRequest,
  tcpPeer,
  wrapTcpPeer,
} from '../support/sip-peers.js';
import type { TcpPeer } from '../support/sip-peers.js';

async function tcpLayer(
  t: Test,
  options: ConstructorParameters<typeof TransportLayer>[0] = {},
  host = '127.0.0.1',
) {
  const tl = new TransportLayer(options);
  t.teardown(() => tl.close());
  const lp = await tl.listen({ protocol: 'tcp', address: host, port: 0 });
  const closed = new AsyncQueue<{ flow: Flow; reason: FlowCloseReason }>();
  tl.onFlowClosed((flow, reason) => closed.push({ flow, reason }));
  return { tl, lp, inbox: collect(tl), closed };
}

function peerFor(t: Test, p: Promise<TcpPeer>): Promise<TcpPeer> {
  return p.then((peer) => {
    t.teardown(() => void peer.socket.destroy());
    return peer;
  });
}

t.test(
  'TCP: a message split across chunks and several messages in one chunk are framed correctly (RFC 3261 §18.3)',
  async (t) => {
    const { lp, inbox } = await tcpLayer(t);
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    const one = sipRequest({
      callId: 'split',
      method: 'MESSAGE',
      body: 'hello split body',
      via: 'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKs',
    });
    for (let i = 0; i < one.length; i += 7) {
      peer.write(one.slice(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    const got = await inbox.next();
    t.equal(got.message.callId, 'split');
    t.equal(got.message.body.toString(), 'hello split body');
    t.equal(got.flow.protocol, 'tcp');
    t.match(got.flow.flowId, /^tcp:127\.0\.0\.1:\d+->127\.0\.0\.1:\d+#\d+$/);

    const batch = ['b1', 'b2', 'b3']
      .map((id) => sipRequest({ callId: id, body: id === 'b2' ? 'bodyB2' : '' }))
      .join('');
    peer.write(batch);
    const ids = [
      (await inbox.next()).message.callId,
      (await inbox.next()).message.callId,
      (await inbox.next()).message.callId,
    ];
    t.same(ids, ['b1', 'b2', 'b3']);
  },
);

t.test(
  'TCP: a double-CRLF ping is answered with a single CRLF pong (RFC 5626 §3.5.1)',
  async (t) => {
    const { tl, lp, inbox } = await tcpLayer(t);
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write('\r\n\r\n');
    await peer.waitFor((s) => s === '\r\n');
    peer.write(sipRequest({ callId: 'after-ping' }));
    t.equal((await inbox.next()).message.callId, 'after-ping');
    t.equal(tl.stats().keepAlivesAnswered, 1);
    t.equal(tl.stats().parseErrors, 0);
  },
);

t.test(
  'TCP: a message without Content-Length closes the connection and is counted as bad framing',
  async (t) => {
    const { tl, lp, closed } = await tcpLayer(t);
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write(sipRequest({ contentLength: '' }));
    await peer.closed;
    const c = await closed.next();
    t.equal(c.reason, 'bad-framing');
    t.equal(tl.stats().badFraming, 1);
    t.equal(tl.stats().connections.open, 0);
  },
);

t.test(
  'TCP: a malformed but framed request is answered 400 and the connection stays usable',
  async (t) => {
    const { tl, lp, inbox } = await tcpLayer(t);
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write(sipRequest({ cseq: 'bogus', callId: 'bad' }) + sipRequest({ callId: 'fine' }));
    t.equal((await inbox.next()).message.callId, 'fine');
    await peer.waitFor((s) => countResponses(s, 400) === 1);
    t.equal(tl.stats().errorResponsesSent, 1);
    t.equal(tl.stats().connections.open, 1);
  },
);

t.test(
  'TCP: a message over the size limit is answered 513, then the connection closes',
  async (t) => {
    const { tl, lp } = await tcpLayer(t, { maxMessageSize: 1000 });
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write(sipRequest({ method: 'MESSAGE', callId: 'huge', body: 'q'.repeat(5000) }));
    await peer.closed;
    t.equal(countResponses(peer.text(), 513), 1);
    t.match(peer.text(), /Call-ID: huge/);
    t.equal(tl.stats().tooLarge, 1);
  },
);

t.test(
  'TCP: a response goes back over the connection the request came on (RFC 3261 §18.2.2)',
  async (t) => {
    const { tl, lp, inbox } = await tcpLayer(t);
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write(sipRequest({ via: 'SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKr1' }));
    const got = await inbox.next();
    if (got.message.kind !== 'request') throw new Error('expected a request');
    const target = responseTarget(got.message, got.flow);
    t.equal(target.flowId, got.flow.flowId);
    const flow = await tl.send(createResponse(got.message, 200), target);
    t.equal(flow.flowId, got.flow.flowId);
    await peer.waitFor((s) => countResponses(s, 200) === 1);
    t.equal(tl.stats().connections.connected, 0, 'no new connection was opened');
    t.equal(tl.stats().connections.open, 1);
  },
);

t.test(
  'TCP: when the request connection is gone, the response opens one to received and the sent-by port (§18.2.2)',
  async (t) => {
    const { tl, lp, inbox, closed } = await tcpLayer(t);
    const accepted = new AsyncQueue<TcpPeer>();
    const server = createServer((s) => accepted.push(wrapTcpPeer(s)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => server.close(() => r())));
    const peerPort = (server.address() as { port: number }).port;
    const peer = await peerFor(t, tcpPeer(lp.local.port));
    peer.write(sipRequest({ via: `SIP/2.0/TCP 192.0.2.7:${peerPort};branch=z9hG4bKr2` }));
    const got = await inbox.next();
    if (got.message.kind !== 'request') throw new Error('expected a request');
    peer.socket.destroy();
    await closed.next();
    await tl.send(createResponse(got.message, 486), responseTarget(got.message, got.flow));
    const back = await accepted.next();
    t.teardown(() => void back.socket.destroy());
    await back.waitFor((s) => countResponses(s, 486) === 1);
    t.equal(tl.stats().connections.connected, 1);
  },
);

t.test(
  'TCP: requests to the same peer reuse one connection; a pinned closed flow fails with SIP_ERR_FLOW_CLOSED',
  async (t) => {
    const { tl, closed } = await tcpLayer(t);
    const accepted = new AsyncQueue<Socket>();
    let connections = 0;
    const server = createServer((s) => {
      connections++;
      s.on('error', () => undefined);
      accepted.push(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    t.teardown(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as { port: number }).port;
    const target = { protocol: 'tcp' as const, address: '127.0.0.1', port };
    const [f1, f2] = await Promise.all([
      tl.send(
        parseRequestText(sipRequest({ via: 'SIP/2.0/TCP 0.0.0.0;branch=z9hG4bKq1' })),
        target,
      ),
      tl.send(
        parseRequestText(sipRequest({ via: 'SIP/2.0/TCP 0.0.0.0;branch=z9hG4bKq2' })),
        target,
      ),
    ]);
    const f3 = await tl.send(
      parseRequestText(sipRequest({ via: 'SIP/2.0/TCP 0.0.0.0;branch=z9hG4bKq3' })),
      target,
    );
    t.equal(f1.flowId, f2.flowId);
    t.equal(f1.flowId, f3.flowId);
    const s = await accepted.next();
    const peer = wrapTcpPeer(s);
    await peer.waitFor((x) => (x.match(/^OPTIONS /gm) ?? []).length === 3);
    t.equal(connections, 1);
    s.destroy();
    t.equal((await closed.next()).flow.flowId, f1.flowId);
    await t.rejects(tl.send(parseRequestText(sipRequest()), { ...target, flowId: f1.flowId! }), {
      code: 'SIP_ERR_FLOW_CLOSED',
    });
  },
);

t.test('TCP: idle connections are reaped on the injected clock and reported closed', async (t) => {
  const clock = new ManualClock();
  const { tl, lp, inbox, closed } = await tcpLayer(t, { clock, tcpIdleTimeoutMs: 30_000 });
  const peer = await peerFor(t, tcpPeer(lp.local.port));
  peer.write(sipRequest({ callId: 'idle' }));
  const got = await inbox.next();
  clock.advance(20_000);
  t.equal(tl.stats().connections.open, 1, 'not yet idle long enough');
  peer.write('\r\n\r\n'); // keep-alive counts as activity
  await peer.waitFor((s) => s.endsWith('\r\n'));
  clock.advance(20_000);
  t.equal(tl.stats().connections.open, 1, 'activity postponed reaping');
  clock.advance(20_000);
  const c = await closed.next();
  t.equal(c.reason, 'idle');
  t.equal(c.flow.flowId, got.flow.flowId);
  await peer.closed;
  t.equal(tl.stats().connections.reaped, 1);
  t.equal(tl.stats().connections.open, 0);
});

t.test('TCP: connections beyond the per-peer limit are refused', async (t) => {
  const { tl, lp, inbox } = await tcpLayer(t, { maxConnectionsPerPeer: 2 });
  const p1 = await peerFor(t, tcpPeer(lp.local.port));
  const p2 = await peerFor(t, tcpPeer(lp.local.port));
  p1.write(sipRequest({ callId: 'p1' }));
  p2.write(sipRequest({ callId: 'p2' }));
  await inbox.next();
  await inbox.next();
  const p3 = await peerFor(t, tcpPeer(lp.local.port));
  p3.write(sipRequest({ callId: 'p3' }));
  await p3.closed;
  t.equal(tl.stats().connections.refused, 1);
  t.equal(tl.stats().connections.open, 2);
  t.equal(inbox.size, 0, 'nothing from the refused connection was delivered');
});

t.test('TCP ::1: round trip over IPv6 with received stamped', async (t) => {
  const { tl, lp, inbox } = await tcpLayer(t, {}, '::1');
  const peer = await peerFor(t, tcpPeer(lp.local.port, '::1'));
  peer.write(sipRequest({ via: 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bK6' }));
  const got = await inbox.next();
  t.equal(got.message.topVia?.received, '::1');
  t.equal(got.flow.remote.address, '::1');
  if (got.message.kind !== 'request') throw new Error('expected a request');
  await tl.send(createResponse(got.message, 200), responseTarget(got.message, got.flow));
  await peer.waitFor((s) => countResponses(s, 200) === 1);
});

t.test(
  'TCP: a peer resetting mid-message or sending binary garbage never throws out of the layer',
  async (t) => {
    const { tl, lp, inbox, closed } = await tcpLayer(t);
    const p1 = await peerFor(t, tcpPeer(lp.local.port));
    p1.write(sipRequest({ body: 'abc' }).slice(0, 40));
    await new Promise((r) => setTimeout(r, 20));
    p1.socket.resetAndDestroy();
    await closed.next();
    const p2 = await peerFor(t, tcpPeer(lp.local.port));
    p2.write(Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256)));
    await p2.closed;
    t.equal(tl.stats().badFraming, 1);
    const p3 = await peerFor(t, tcpPeer(lp.local.port));
    p3.write(sipRequest({ callId: 'still-alive' }));
    t.equal((await inbox.next()).message.callId, 'still-alive');
  },
);
