import t from 'tap';
import { parseVia, formatVia, type Via } from '../../src/message/via.js';

const via = (s: string): Via => {
  const r = parseVia(s);
  if (!r.ok) throw new Error(`${s}: ${r.reason}`);
  return r.value;
};

t.test('Via: sent-protocol, sent-by and branch', (t) => {
  const v = via('SIP/2.0/UDP pc33.Atlanta.com:5066;branch=z9hG4bK776asdhds');
  t.same(
    [v.protocol, v.transport, v.host, v.port, v.branch],
    ['SIP/2.0', 'UDP', 'pc33.atlanta.com', 5066, 'z9hG4bK776asdhds'],
  );
  t.equal(v.received, undefined);
  t.equal(v.rport, undefined);
  t.end();
});

t.test(
  'Via: LWS around "/" and ":" and ";" is allowed; transport upper-cased (RFC 3261 §20.42)',
  (t) => {
    const v = via(' sip / 2.0 / tcp  host.example.com : 5060 ; branch = z9hG4bKa ; ttl=3');
    t.same(
      [v.protocol, v.transport, v.host, v.port, v.branch],
      ['SIP/2.0', 'TCP', 'host.example.com', 5060, 'z9hG4bKa'],
    );
    t.equal(v.params.get('ttl'), '3');
    t.equal(via('SIP/2.0/ws df7jal23ls0d.invalid;branch=z9hG4bK1').transport, 'WS');
    t.end();
  },
);

t.test('Via: received and rport (RFC 3581): bare rport is null, stamped rport a number', (t) => {
  const bare = via('SIP/2.0/UDP 10.0.0.1;rport;branch=z9hG4bK1');
  t.equal(bare.rport, null);
  const stamped = via('SIP/2.0/UDP 10.0.0.1;received=192.0.2.1;rport=5070;branch=z9hG4bK1');
  t.equal(stamped.received, '192.0.2.1');
  t.equal(stamped.rport, 5070);
  t.notOk(parseVia('SIP/2.0/UDP h;rport=99999').ok);
  t.notOk(parseVia('SIP/2.0/UDP h;branch').ok, 'branch needs a value');
  t.end();
});

t.test('Via: IPv6 sent-by and received, bracketed or not (RFC 5118 §4.5)', (t) => {
  const v = via(
    'SIP/2.0/UDP [2001:DB8::9:1]:5060;received=[2001:db8::9:255];branch=z9hG4bKas3-111',
  );
  t.equal(v.host, '[2001:db8::9:1]');
  t.equal(v.port, 5060);
  t.equal(v.received, '[2001:db8::9:255]');
  t.equal(v.branch, 'z9hG4bKas3-111');
  t.equal(
    via('SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255;branch=z9hG4bK2').received,
    '2001:db8::9:255',
  );
  t.end();
});

t.test('Via: malformed values fail with a reason', (t) => {
  for (const bad of [
    '',
    'SIP/2.0 host',
    'SIP/2.0/UDP',
    'SIP/2.0/UDPhost',
    'SIP/2.0/UDP host:abc',
    'SIP/2.0/UDP host;',
    'SIP/2.0/UDP host junk',
    'SIP/2.0/UDP host;branch="unterminated',
  ]) {
    t.notOk(parseVia(bad).ok, `rejects ${JSON.stringify(bad)}`);
  }
  t.end();
});

t.test('formatVia: round-trips; branch/received/rport fields override params', (t) => {
  const s = 'SIP/2.0/TCP h.example.com:5060;branch=z9hG4bK1;rport';
  t.equal(formatVia(via(s)), s);
  const v = via(s);
  v.received = '192.0.2.7';
  v.rport = 40000;
  t.equal(
    formatVia(v),
    'SIP/2.0/TCP h.example.com:5060;branch=z9hG4bK1;rport=40000;received=192.0.2.7',
  );
  t.equal(
    formatVia({
      protocol: 'SIP/2.0',
      transport: 'UDP',
      host: '[::1]',
      params: new Map([['branch', 'z9hG4bKx']]),
    }),
    'SIP/2.0/UDP [::1];branch=z9hG4bKx',
  );
  t.end();
});
