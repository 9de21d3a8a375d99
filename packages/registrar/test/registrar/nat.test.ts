/** routeBinding, uriTarget and the Contact alias, without sockets. */
import t from 'tap';
import type { Flow } from '@switchboard/sip-stack';
import { contactAliasTarget, routeBinding, uriTarget, withContactAlias } from '../../src/index.js';

const UDP: Flow = {
  protocol: 'udp',
  local: { address: '192.0.2.1', port: 5060 },
  remote: { address: '203.0.113.5', port: 40312 },
  flowId: 'udp:192.0.2.1:5060->203.0.113.5:40312',
};
const WS: Flow = {
  protocol: 'ws',
  local: { address: '192.0.2.1', port: 5066 },
  remote: { address: '203.0.113.5', port: 51000 },
  flowId: 'ws:#9',
};

t.test('uriTarget reads IP literals, ports and transports, and ignores host names', (t) => {
  t.same(uriTarget('sip:a@10.0.0.1'), { protocol: 'udp', address: '10.0.0.1', port: 5060 });
  t.same(uriTarget('sips:a@[::1]:5071'), { protocol: 'tls', address: '::1', port: 5071 });
  t.same(uriTarget('sip:a@10.0.0.1;transport=tcp'), {
    protocol: 'tcp',
    address: '10.0.0.1',
    port: 5060,
  });
  t.equal(uriTarget('sip:a@example.com'), undefined);
  t.end();
});

t.test('a private Contact behind NAT is reached at the source, over the same socket', (t) => {
  const r = routeBinding('sip:a@10.0.0.5:5060', UDP, { outbound: false, nat: 'auto' });
  t.match(r.received, { protocol: 'udp', address: '203.0.113.5', port: 40312 });
  t.same(r.target, { protocol: 'udp', address: '203.0.113.5', port: 40312, flowId: UDP.flowId });
  t.equal(r.needsFlow, false, 'UDP flows do not close');
  t.end();
});

t.test('nat never trusts the Contact; nat always uses the source even when they agree', (t) => {
  const never = routeBinding('sip:a@10.0.0.5:5060', UDP, { outbound: false, nat: 'never' });
  t.same(never.target, { protocol: 'udp', address: '10.0.0.5', port: 5060 });
  t.equal(never.received, undefined);
  const always = routeBinding('sip:a@203.0.113.5:40312', UDP, { outbound: false, nat: 'always' });
  t.ok(always.received !== undefined);
  t.end();
});

t.test('a WebSocket client with an .invalid Contact needs its flow', (t) => {
  const r = routeBinding('sip:x@df7jal23ls0d.invalid;transport=ws', WS, {
    outbound: false,
    nat: 'auto',
  });
  t.equal(r.needsFlow, true);
  t.equal(r.target?.flowId, 'ws:#9');
  t.end();
});

t.test('the Contact alias carries the received address and reads back', (t) => {
  const uri = withContactAlias('sip:a@10.0.0.5:5060;transport=tcp', {
    protocol: 'tcp',
    address: '203.0.113.5',
    port: 40312,
  });
  t.match(uri, /;alias=203\.0\.113\.5~40312~2/);
  t.same(contactAliasTarget(uri), { protocol: 'tcp', address: '203.0.113.5', port: 40312 });
  t.equal(contactAliasTarget('sip:a@10.0.0.5;alias=x~99999~1'), undefined);
  t.end();
});
