import t from 'tap';
import { createResponse } from '../../src/message/build-response.js';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import { parseFlowId } from '../../src/transport/remote-flows.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import type { Flow, Target } from '../../src/transport/transport.js';
import { collect, countResponses, sipRequest, tcpPeer, udpPeer } from '../support/sip-peers.js';

t.test('parseFlowId reads protocol, endpoints and keeps the id with its suffix', (t) => {
  const v4 = parseFlowId('tcp:10.0.0.1:5060->10.0.0.2:40312#17@w1');
  t.same(v4, {
    protocol: 'tcp',
    local: { address: '10.0.0.1', port: 5060 },
    remote: { address: '10.0.0.2', port: 40312 },
    flowId: 'tcp:10.0.0.1:5060->10.0.0.2:40312#17@w1',
  });
  const v6 = parseFlowId('udp:[::1]:5060->[2001:db8::5]:5062');
  t.equal(v6?.local.address, '::1');
  t.equal(v6?.remote.address, '2001:db8::5');
  t.equal(v6?.remote.port, 5062);
  t.equal(parseFlowId('garbage'), undefined);
  t.equal(parseFlowId('sctp:1.2.3.4:1->1.2.3.4:2'), undefined);
  t.end();
});

t.test(
  'a datagram the dispatch hook takes is not delivered here, and injected elsewhere arrives with its flow',
  async (t) => {
    const handed: { bytes: Buffer; flow: Flow }[] = [];
    const a = new TransportLayer({
      dispatch: (bytes, flow) => {
        handed.push({ bytes, flow });
        return 'handled';
      },
    });
    const b = new TransportLayer();
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const lp = await a.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    await b.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
    const inboxA = collect(a);
    const inboxB = collect(b);
    const peer = await udpPeer();
    t.teardown(() => peer.close());
    await peer.send(sipRequest({ callId: 'handed-1' }), lp.local.port);
    while (handed.length === 0) await new Promise((r) => setTimeout(r, 5));
    const first = handed[0];
    if (first === undefined) throw new Error('unreachable');
    t.equal(first.flow.remote.port, peer.port);
    b.injectReceived(first.bytes, first.flow);
    const got = await inboxB.next();
    t.equal(got.message.callId, 'handed-1');
    t.same(got.flow, first.flow);
    t.equal((got.message as SipRequest).topVia?.rport, peer.port, 'RFC 3581 rport stamped');
    t.equal(inboxA.size, 0, 'nothing delivered by the dispatching layer');
  },
);

t.test('a throwing dispatch hook keeps the message local', async (t) => {
  const a = new TransportLayer({
    dispatch: () => {
      throw new Error('boom');
    },
  });
  t.teardown(() => a.close());
  const lp = await a.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  const inbox = collect(a);
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  await peer.send(sipRequest({ callId: 'kept' }), lp.local.port);
  t.equal((await inbox.next()).message.callId, 'kept');
  t.equal(a.stats().handlerErrors, 1);
});

t.test(
  'a response pinned to a TCP flow held by another layer is written on that connection',
  async (t) => {
    // a forwards to b, which is created after it: the closure reads it through a holder.
    const held: { b?: TransportLayer } = {};
    const a = new TransportLayer({
      flowIdSuffix: '@w0',
      dispatch: (bytes, flow) => {
        held.b?.injectReceived(bytes, flow);
        return 'handled';
      },
    });
    const b = new TransportLayer({
      flowIdSuffix: '@w1',
      remoteFlows: {
        isRemote: (id) => id.endsWith('@w0'),
        write: (id, bytes) => a.writeFlow(id, bytes),
      },
    });
    held.b = b;
    t.teardown(() => Promise.all([a.close(), b.close()]));
    const lp = await a.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
    await b.listen({ protocol: 'tcp', address: '127.0.0.1', port: 0 });
    const inboxB = collect(b);
    const peer = await tcpPeer(lp.local.port);
    t.teardown(() => void peer.socket.destroy());
    peer.write(sipRequest({ callId: 'tcp-held', via: 'SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKt1' }));
    const got = await inboxB.next();
    t.match(got.flow.flowId, /#\d+@w0$/);
    const req = got.message as SipRequest;
    const target: Target = {
      protocol: 'tcp',
      address: got.flow.remote.address,
      port: got.flow.remote.port,
      ...(got.flow.flowId === undefined ? {} : { flowId: got.flow.flowId }),
    };
    const flow = await b.send(createResponse(req, 200), target);
    t.equal(flow.flowId, got.flow.flowId);
    t.equal(flow.remote.port, got.flow.remote.port);
    const text = await peer.waitFor((x) => countResponses(x, 200) === 1);
    const parsed = parseMessage(Buffer.from(text, 'latin1'), { datagram: false });
    t.ok(parsed.ok && parsed.message.kind === 'response' && parsed.message.status === 200);
    t.equal(b.stats().connections.open, 0, 'the writing layer opened no connection of its own');
  },
);

t.test('a send pinned to a closed remote flow rejects with the remote error', async (t) => {
  const b = new TransportLayer({
    remoteFlows: {
      isRemote: () => true,
      write: () => Promise.reject(new Error('gone')),
    },
  });
  t.teardown(() => b.close());
  await t.rejects(
    b.sendBuffer(Buffer.from('x'), {
      protocol: 'tcp',
      address: '127.0.0.1',
      port: 9,
      flowId: 'tcp:127.0.0.1:5060->127.0.0.1:9#1@w0',
    }),
    { code: 'SIP_ERR_SEND' },
  );
});
