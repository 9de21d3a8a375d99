import t from 'tap';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { MAX_UDP_FLOWS, UdpFlows } from '../../src/transport/udp-flows.js';
import { collect, sipRequest, udpPeer } from '../support/sip-peers.js';

const local = { address: '127.0.0.1', port: 5060 };

t.test('one frozen flow per remote endpoint, named by the socket and the remote', (t) => {
  const flows = new UdpFlows(local);
  const a = flows.get('192.0.2.7', 5070);
  t.equal(flows.get('192.0.2.7', 5070), a, 'the same remote gives the same flow object');
  t.not(flows.get('192.0.2.7', 5071), a, 'another port is another flow');
  t.not(flows.get('192.0.2.8', 5070), a, 'another address is another flow');
  t.same(a, {
    protocol: 'udp',
    local,
    remote: { address: '192.0.2.7', port: 5070 },
    flowId: 'udp:127.0.0.1:5060->192.0.2.7:5070',
  });
  t.ok(Object.isFrozen(a) && Object.isFrozen(a.remote), 'shared, so nobody may change it');
  t.equal(flows.size, 3);
  t.end();
});

t.test('the remote address of a flow is normalised (IPv4-mapped IPv6, case)', (t) => {
  const flows = new UdpFlows({ address: '::', port: 5060 });
  t.equal(flows.get('::ffff:192.0.2.7', 5070).remote.address, '192.0.2.7');
  t.equal(flows.get('2001:DB8::1', 5070).remote.address, '2001:db8::1');
  t.end();
});

t.test('the cache is bounded: past its limit it starts over', (t) => {
  const flows = new UdpFlows(local);
  const first = flows.get('10.0.0.1', 1);
  for (let i = 1; i < MAX_UDP_FLOWS; i++) flows.get(`10.0.${i >> 8}.${i & 255}`, 2);
  t.equal(flows.size, MAX_UDP_FLOWS);
  t.equal(flows.get('10.0.0.1', 1), first, 'a remote still cached is not replaced');
  flows.get('10.1.0.0', 3);
  t.equal(flows.size, 1, 'one more remote empties the cache first');
  const again = flows.get('10.0.0.1', 1);
  t.not(again, first, 'a forgotten remote gets a new (equal) flow');
  t.same(again, first);
  t.end();
});

t.test('UDP: every datagram from one peer arrives on the same flow object', async (t) => {
  const tl = new TransportLayer();
  t.teardown(() => tl.close());
  const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  const inbox = collect(tl);
  const peer = await udpPeer('127.0.0.1');
  t.teardown(() => peer.close());
  const other = await udpPeer('127.0.0.1');
  t.teardown(() => other.close());
  await peer.send(
    sipRequest({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKf1' }),
    lp.local.port,
  );
  const one = await inbox.next();
  await peer.send(
    sipRequest({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKf2' }),
    lp.local.port,
  );
  const two = await inbox.next();
  await other.send(
    sipRequest({ via: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKf3' }),
    lp.local.port,
  );
  const three = await inbox.next();
  t.equal(two.flow, one.flow);
  t.not(three.flow, one.flow);
  t.same(three.flow.remote, { address: '127.0.0.1', port: other.port });
  t.equal(one.flow.flowId, `udp:127.0.0.1:${lp.local.port}->127.0.0.1:${peer.port}`);
});
