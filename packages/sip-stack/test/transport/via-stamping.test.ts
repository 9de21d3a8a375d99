import t from 'tap';
import {
  fillSentBy,
  responseTarget,
  stampReceived,
  viaDestination,
} from '../../src/transport/via-stamping.js';
import { parseRequestText, sipRequest } from '../support/sip-peers.js';

const src = { address: '198.51.100.7', port: 40123 };

t.test(
  'stampReceived: rport without value gets the source port and received is added (RFC 3581 §4)',
  (t) => {
    const req = parseRequestText(
      sipRequest({ via: 'SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bKa;x=1' }),
    );
    t.ok(stampReceived(req, src));
    t.equal(
      req.headers.get('Via'),
      'SIP/2.0/UDP 198.51.100.7:5060;rport=40123;branch=z9hG4bKa;x=1;received=198.51.100.7',
    );
    t.equal(req.topVia?.rport, 40123);
    t.equal(req.topVia?.received, '198.51.100.7');
    t.end();
  },
);

t.test(
  'stampReceived: a received written by the peer is replaced, other Via values are kept',
  (t) => {
    const req = parseRequestText(
      sipRequest({
        via: 'SIP/2.0/UDP 10.0.0.1;received=6.6.6.6;branch=z9hG4bKb, SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc',
      }),
    );
    t.ok(stampReceived(req, src));
    t.equal(req.via.length, 2);
    t.equal(req.topVia?.received, '198.51.100.7');
    t.equal(req.via[1]?.host, '10.0.0.2');
    t.notMatch(req.toBuffer().toString(), /6\.6\.6\.6/);
    t.end();
  },
);

t.test(
  'stampReceived: IPv6 sent-by equal to the source is left alone; a different one gets received',
  (t) => {
    const same = parseRequestText(
      sipRequest({ via: 'SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKd' }),
    );
    t.notOk(stampReceived(same, { address: '2001:db8:0:0:0:0:0:1', port: 1 }));
    const other = parseRequestText(
      sipRequest({ via: 'SIP/2.0/TCP [2001:db8::1];branch=z9hG4bKe' }),
    );
    t.ok(stampReceived(other, { address: '2001:db8::2', port: 1 }));
    t.equal(other.topVia?.received, '2001:db8::2');
    t.end();
  },
);

t.test('stampReceived: a quoted parameter value is handled through the structured Via', (t) => {
  const req = parseRequestText(
    sipRequest({ via: 'SIP/2.0/UDP h.example.test;branch=z9hG4bKf;note=";rport;received=1"' }),
  );
  t.ok(stampReceived(req, src));
  t.equal(req.topVia?.received, '198.51.100.7');
  t.equal(req.topVia?.rport, undefined);
  t.equal(req.topVia?.params.get('note'), '";rport;received=1"');
  t.end();
});

t.test('fillSentBy: only a placeholder Via is filled; IPv6 hosts get brackets', (t) => {
  const req = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0;branch=z9hG4bKg' }));
  t.ok(fillSentBy(req, 'tls', { host: '::1', port: 5061 }));
  t.equal(req.headers.get('Via'), 'SIP/2.0/TLS [::1]:5061;branch=z9hG4bKg');
  t.notOk(fillSentBy(req, 'udp', { host: '10.0.0.9', port: 5060 }), 'already filled');
  t.end();
});

t.test(
  'fillSentBy: the placeholder of a second Via value or one written with spaces is filled too, the rest kept',
  (t) => {
    const two = parseRequestText(
      sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0:5060;branch=z9hG4bKt;rport, SIP/2.0/UDP 192.0.2.1' }),
    );
    t.ok(fillSentBy(two, 'udp', { host: '10.0.0.9', port: 5070 }));
    t.same(two.headers.getAll('Via'), [
      'SIP/2.0/UDP 10.0.0.9:5070;branch=z9hG4bKt;rport',
      'SIP/2.0/UDP 192.0.2.1',
    ]);
    t.equal(two.via.length, 2);
    const spaced = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 0.0.0.0 ;branch=z9hG4bKs' }));
    t.ok(fillSentBy(spaced, 'tcp', { host: '10.0.0.9' }));
    t.equal(spaced.topVia?.host, '10.0.0.9');
    t.equal(spaced.topVia?.transport, 'TCP');
    t.equal(spaced.topVia?.port, undefined);
    t.equal(spaced.topVia?.branch, 'z9hG4bKs');
    const filled = parseRequestText(
      sipRequest({ via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKf' }),
    );
    t.ok(fillSentBy(filled, 'tcp', { host: '10.0.0.9', port: 5060 }, true), 'forced');
    t.equal(filled.headers.get('Via'), 'SIP/2.0/TCP 10.0.0.9:5060;branch=z9hG4bKf');
    t.end();
  },
);

t.test('responseTarget and viaDestination follow RFC 3261 §18.2.2 and RFC 3581 §4', (t) => {
  const req = parseRequestText(sipRequest({ via: 'SIP/2.0/UDP 10.0.0.1:5070;branch=z9hG4bKh' }));
  stampReceived(req, src);
  const udpFlow = {
    protocol: 'udp' as const,
    local: { address: '0.0.0.0', port: 5060 },
    remote: src,
  };
  t.same(responseTarget(req, udpFlow), { protocol: 'udp', address: '198.51.100.7', port: 5070 });
  const rp = parseRequestText(
    sipRequest({ via: 'SIP/2.0/UDP 10.0.0.1:5070;rport;branch=z9hG4bKi' }),
  );
  stampReceived(rp, src);
  t.same(responseTarget(rp, udpFlow), { protocol: 'udp', address: '198.51.100.7', port: 40123 });
  const tcp = parseRequestText(sipRequest({ via: 'SIP/2.0/TCP 10.0.0.1;branch=z9hG4bKj' }));
  stampReceived(tcp, src);
  const tcpFlow = { ...udpFlow, protocol: 'tcp' as const, flowId: 'tcp:x#1' };
  t.same(responseTarget(tcp, tcpFlow), {
    protocol: 'tcp',
    address: src.address,
    port: src.port,
    flowId: 'tcp:x#1',
  });
  t.same(viaDestination(tcp), { protocol: 'tcp', address: '198.51.100.7', port: 5060 });
  t.end();
});
