import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { createResponse } from '../../src/message/build-response.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { responseTarget } from '../../src/transport/via-stamping.js';
import type { ListeningPoint } from '../../src/transport/transport.js';
import { collect, parseRequestText, sipRequest, udpPeer } from '../support/sip-peers.js';

function parsed(b: Buffer) {
  const r = parseMessage(b);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

for (const host of ['127.0.0.1', '::1']) {
  t.test(
    `UDP ${host}: a request is delivered with received and rport stamped, the response returns to the source port`,
    async (t) => {
      const tl = new TransportLayer();
      t.teardown(() => tl.close());
      const lp = await tl.listen({ protocol: 'udp', address: host, port: 0 });
      const inbox = collect(tl);
      const peer = await udpPeer(host);
      t.teardown(() => peer.close());

      await peer.send(
        sipRequest({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKu1;rport' }),
        lp.local.port,
      );
      const got = await inbox.next();
      t.equal(got.flow.protocol, 'udp');
      t.same(got.flow.remote, { address: host, port: peer.port });
      t.same(got.flow.local, lp.local);
      const via = got.message.topVia!;
      t.equal(via.received, host, 'RFC 3581 §4: received added');
      t.equal(via.rport, peer.port, 'RFC 3581 §4: rport filled with the source port');
      t.equal(got.message.kind, 'request');

      if (got.message.kind !== 'request') return;
      const resp = createResponse(got.message, 200);
      const target = responseTarget(got.message, got.flow);
      t.same(
        target,
        { protocol: 'udp', address: host, port: peer.port },
        'response goes to received:rport',
      );
      await tl.send(resp, target);
      const back = parsed(await peer.received.next());
      t.equal(back.kind === 'response' && back.status, 200);
      t.match(back.headers.get('Via') ?? '', new RegExp(`rport=${peer.port}`));
      t.equal(tl.stats().received.udp, 1);
      t.equal(tl.stats().sent.udp, 1);
    },
  );
}

t.test(
  'UDP: no received is added when sent-by is the source address and there is no rport (RFC 3261 §18.2.1)',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const inbox = collect(tl);
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    await peer.send(
      sipRequest({ via: `SIP/2.0/UDP 127.0.0.1:${peer.port};branch=z9hG4bKu2` }),
      lp.local.port,
    );
    const via = (await inbox.next()).message.topVia!;
    t.equal(via.received, undefined);
    t.equal(via.rport, undefined);

    await peer.send(
      sipRequest({ via: 'SIP/2.0/UDP pc33.example.test;branch=z9hG4bKu3' }),
      lp.local.port,
    );
    t.equal(
      (await inbox.next()).message.topVia!.received,
      '127.0.0.1',
      'a host name always gets received',
    );
  },
);

t.test(
  'UDP: a malformed request whose start line and Via parse is answered 400; garbage is counted and dropped',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const inbox = collect(tl);
    const peer = await udpPeer();
    t.teardown(() => peer.close());

    await peer.send(
      sipRequest({ cseq: 'not-a-number OPTIONS', callId: 'bad-cseq' }),
      lp.local.port,
    );
    const answer = (await peer.received.next()).toString('latin1');
    t.match(answer, /^SIP\/2\.0 400 /);
    t.match(answer, /\r\nCall-ID: bad-cseq\r\n/);

    await peer.send('\x16\x03\x01 this is not SIP at all', lp.local.port);
    await peer.send(sipRequest({ method: 'ACK', cseq: 'x ACK' }), lp.local.port);
    // a well-formed request afterwards proves the layer is alive and orders the checks below
    await peer.send(sipRequest({ callId: 'good' }), lp.local.port);
    t.equal((await inbox.next()).message.callId, 'good');
    const s = tl.stats();
    t.equal(s.parseErrors, 3);
    t.equal(s.errorResponsesSent, 1);
    t.equal(s.dropped, 2, 'garbage and the malformed ACK are dropped (ACK is never answered)');
    t.equal(peer.received.size, 0, 'nothing else was sent to the peer');
  },
);

t.test('UDP: a datagram over the size limit is answered 513', async (t) => {
  const tl = new TransportLayer({ maxMessageSize: 2000 });
  t.teardown(() => tl.close());
  const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  collect(tl);
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  await peer.send(
    sipRequest({ method: 'MESSAGE', body: 'x'.repeat(3000), extra: ['Content-Type: text/plain'] }),
    lp.local.port,
  );
  const answer = parsed(await peer.received.next());
  t.equal(answer.kind === 'response' && answer.status, 513);
  t.equal(tl.stats().tooLarge, 1);
});

t.test(
  'UDP: keep-alive datagrams are ignored and a throwing handler does not break the layer',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    let calls = 0;
    tl.onMessage(() => {
      calls++;
      throw new Error('handler bug');
    });
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    await peer.send('\r\n\r\n', lp.local.port);
    await peer.send(sipRequest(), lp.local.port);
    await peer.send(sipRequest(), lp.local.port);
    for (let i = 0; i < 100 && calls < 2; i++) await new Promise((r) => setTimeout(r, 10));
    t.equal(calls, 2);
    t.equal(tl.stats().handlerErrors, 2);
    t.equal(tl.stats().parseErrors, 0, 'CRLF keep-alive is not a parse error');
  },
);

t.test(
  'UDP send: a placeholder Via gets sent-by from the listening point, or its advertised address',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp: ListeningPoint = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    const req = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKout1' }));
    const flow = await tl.send(req, { protocol: 'udp', address: '127.0.0.1', port: peer.port });
    t.same(flow.remote, { address: '127.0.0.1', port: peer.port });
    const out = parsed(await peer.received.next());
    t.equal(out.topVia?.host, '127.0.0.1');
    t.equal(out.topVia?.port, lp.local.port);
    t.equal(out.topVia?.transport, 'UDP');
    t.equal(out.topVia?.branch, 'z9hG4bKout1');

    const tl2 = new TransportLayer();
    t.teardown(() => tl2.close());
    await tl2.listen({
      protocol: 'udp',
      address: '127.0.0.1',
      port: 0,
      advertised: { host: 'sip.example.test', port: 5070 },
    });
    await tl2.send(
      parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKout2' })),
      {
        protocol: 'udp',
        address: '127.0.0.1',
        port: peer.port,
      },
    );
    const out2 = parsed(await peer.received.next());
    t.equal(out2.topVia?.host, 'sip.example.test');
    t.equal(out2.topVia?.port, 5070);
  },
);

/** A layer listening on UDP and TCP at the same port number. */
async function udpAndTcpOnOnePort(tl: TransportLayer): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const tcp = await tl.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
    try {
      await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: tcp.local.port });
      return tcp.local.port;
    } catch {
      // that UDP port is taken; try another
    }
  }
  throw new Error('no common port');
}

t.test(
  'UDP send: a request over the MTU goes over TCP with the Via transport rewritten (RFC 3261 §18.1.1)',
  async (t) => {
    const a = new TransportLayer({ mtu: 1300 });
    const b = new TransportLayer();
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    const aUdp = await a.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const aTcp = await a.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
    const port = await udpAndTcpOnOnePort(b);
    const inbox = collect(b);
    const big = sipRequest({
      method: 'MESSAGE',
      via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKbig',
      body: 'y'.repeat(1400),
    });
    const flow = await a.send(parseRequestText(big), {
      protocol: 'udp',
      address: '127.0.0.1',
      port,
    });
    t.equal(flow.protocol, 'tcp');
    const got = await inbox.next();
    t.equal(got.flow.protocol, 'tcp');
    t.equal(got.message.topVia?.transport, 'TCP');
    t.equal(got.message.topVia?.port, aTcp.local.port, 'sent-by names the TCP listening point');
    t.equal(a.stats().mtuSwitches, 1);

    const small = sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKsmall' });
    t.equal(
      (await a.send(parseRequestText(small), { protocol: 'udp', address: '127.0.0.1', port }))
        .protocol,
      'udp',
    );
    t.equal((await inbox.next()).message.topVia?.transport, 'UDP');

    const pinned = await a.send(parseRequestText(big.replace('z9hG4bKbig', 'z9hG4bKpin')), {
      protocol: 'udp',
      address: '127.0.0.1',
      port,
      flowId: `udp:127.0.0.1:${aUdp.local.port}->127.0.0.1:${port}`,
    });
    t.equal(pinned.protocol, 'udp', 'a request pinned to a UDP flow stays on UDP');
    t.equal((await inbox.next()).flow.protocol, 'udp');
  },
);

t.test(
  'UDP send: when TCP cannot connect, a large request falls back to UDP (RFC 3261 §18.1.1)',
  async (t) => {
    const a = new TransportLayer();
    t.teardown(() => a.close());
    await a.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    const big = sipRequest({
      method: 'MESSAGE',
      via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKfb',
      body: 'z'.repeat(1400),
    });
    const flow = await a.send(parseRequestText(big), {
      protocol: 'udp',
      address: '127.0.0.1',
      port: peer.port,
    });
    t.equal(flow.protocol, 'udp');
    const got = parsed(await peer.received.next());
    t.equal(got.topVia?.transport, 'UDP');
    t.equal(a.stats().mtuSwitches, 0);
    t.equal(a.stats().connections.connectFailures, 1);
  },
);

t.test(
  'UDP: sendBuffer resends the same bytes over the flow of the first send, without serialising again',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const peer = await udpPeer('127.0.0.1');
    t.teardown(() => peer.close());
    const request = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKrx1' }));
    const flow = await tl.send(request, { protocol: 'udp', address: '127.0.0.1', port: peer.port });
    const first = await peer.received.next();
    const again = await tl.sendBuffer(first, {
      protocol: 'udp',
      ...flow.remote,
      flowId: flow.flowId!,
    });
    const second = await peer.received.next();
    t.same(second, first, 'the retransmission is byte-identical');
    t.same(again, flow, 'it left over the same flow');
    t.equal(tl.stats().sent.udp, 2);
  },
);

t.test(
  'TCP: sendBuffer to a stream flow that is gone rejects and opens no connection',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    await t.rejects(
      tl.sendBuffer(Buffer.from('x'), {
        protocol: 'tcp',
        address: '127.0.0.1',
        port: 9,
        flowId: 'tcp:gone',
      }),
      { code: 'SIP_ERR_FLOW_CLOSED' },
    );
    t.equal(tl.stats().connections.open, 0);
  },
);
