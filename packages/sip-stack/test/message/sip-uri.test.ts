import t from 'tap';
import {
  parseUri,
  formatUri,
  uriEquals,
  type Uri,
  type SipUri,
  type TelUri,
} from '../../src/message/sip-uri.js';

const u = (s: string): Uri => {
  const r = parseUri(s);
  if (!r.ok) throw new Error(`${s}: ${r.reason}`);
  return r.uri;
};
const sipu = (s: string): SipUri => u(s) as SipUri;

t.test('parseUri: SIP URI with user, password, host, port, params and headers', (t) => {
  const x = sipu(
    'sips:alice:secret@AtLanTa.com:5061;transport=tcp;lr;maddr=10.0.0.1?subject=hi%20there&priority=urgent',
  );
  t.equal(x.scheme, 'sips');
  t.equal(x.user, 'alice');
  t.equal(x.password, 'secret');
  t.equal(x.host, 'atlanta.com', 'host lower-cased');
  t.equal(x.port, 5061);
  t.same(
    [...x.params],
    [
      ['transport', 'tcp'],
      ['lr', null],
      ['maddr', '10.0.0.1'],
    ],
  );
  t.same(
    [...x.headers],
    [
      ['subject', 'hi%20there'],
      ['priority', 'urgent'],
    ],
  );
  t.end();
});

t.test('parseUri: user part may contain ; and ? (RFC 3261 §25.1 user-unreserved)', (t) => {
  const x = sipu('sip:user;par=u%40example.net@example.com');
  t.equal(x.user, 'user;par=u%40example.net');
  t.equal(x.host, 'example.com');
  t.equal(x.params.size, 0);
  t.end();
});

t.test('parseUri: IPv6 references keep brackets, port after the bracket (RFC 5118)', (t) => {
  const x = sipu('sip:[2001:DB8::10]:5070;transport=udp');
  t.equal(x.host, '[2001:db8::10]');
  t.equal(x.port, 5070);
  t.equal(sipu('sip:[2001:db8::10:5070]').port, undefined, 'a port inside the brackets is address');
  t.notOk(parseUri('sip:[2001:db8:::192.0.2.1]').ok, 'three colons are not an IPv6 address');
  t.notOk(parseUri('sip:user@2001:db8::10').ok, 'IPv6 without brackets is rejected');
  t.end();
});

t.test('parseUri: tel and other schemes', (t) => {
  const tel = u('tel:+1-201-555-0123;ext=1234') as TelUri;
  t.equal(tel.scheme, 'tel');
  t.equal(tel.number, '+1-201-555-0123');
  t.same([...tel.params], [['ext', '1234']]);
  t.same(u('urn:service:sos'), { scheme: 'urn', raw: 'urn:service:sos' });
  t.end();
});

t.test('parseUri: malformed URIs fail with a reason and never throw', (t) => {
  for (const bad of [
    '',
    'sip',
    ':x',
    'sip:',
    'sip:@host',
    'sip:us er@host',
    'sip:host:99999',
    'sip:host:',
    'sip:<host>',
    'sip:host;=x',
    'sip:host?x',
    'tel:',
    'mailto:a b',
  ]) {
    const r = parseUri(bad);
    t.notOk(r.ok, `rejects ${JSON.stringify(bad)}`);
  }
  t.end();
});

t.test(
  'parseUri: the user part is what precedes the first "@", with or without a password',
  (t) => {
    const ok: [string, string | undefined, string | undefined, string, number | undefined][] = [
      ['sips:alice@Example.COM', 'alice', undefined, 'example.com', undefined],
      ['sips:alice:pw@example.com:5061', 'alice', 'pw', 'example.com', 5061],
      ['sips:host;x=a@b', 'host;x=a', undefined, 'b', undefined],
      ['sips:+1-555@gw.example.net;user=phone', '+1-555', undefined, 'gw.example.net', undefined],
      ['sips:a@[2001:db8::1]:5061', 'a', undefined, '[2001:db8::1]', 5061],
      ['sips:Host.Example.COM:5060;lr', undefined, undefined, 'host.example.com', 5060],
    ];
    for (const [s, user, password, host, port] of ok) {
      const x = sipu(s);
      t.same([x.user, x.password, x.host, x.port], [user, password, host, port], s);
    }
    const bad: [string, string][] = [
      ['sips:us er@host', 'bad character in user part'],
      ['sips:a:b c@host', 'bad character in password'],
      ['sips:host:5060;a=b@c', 'bad character in password'],
      ['sips:@host', 'empty user part'],
      ['sips:a@', 'missing host'],
      ['sips:a@b@c', 'unexpected character "@" in URI'],
    ];
    for (const [s, reason] of bad) t.same(parseUri(s), { ok: false, reason }, s);
    t.end();
  },
);

t.test('formatUri: round-trips parsed URIs', (t) => {
  for (const s of [
    'sip:alice@atlanta.com',
    'sips:a:b@h.com:5061;transport=tls;lr?x=y&z=w',
    'sip:[::1]:5060',
    'tel:+12015550123;phone-context=example.com',
    'urn:x:y',
  ]) {
    t.equal(formatUri(u(s)), s);
  }
  t.end();
});

// RFC 3261 §19.1.4 examples
const EQUAL: [string, string][] = [
  ['sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp'],
  ['sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5'],
  ['sip:carol@chicago.com', 'sip:carol@chicago.com;security=on'],
  ['sip:carol@chicago.com;newparam=5', 'sip:carol@chicago.com;security=on'],
  [
    'sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com',
    'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com',
  ],
  [
    'sip:alice@atlanta.com?subject=project%20x&priority=urgent',
    'sip:alice@atlanta.com?priority=urgent&subject=project%20x',
  ],
];
const NOT_EQUAL: [string, string][] = [
  ['SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP'],
  ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060'],
  ['sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp'],
  ['sip:bob@biloxi.com', 'sip:bob@biloxi.com:6000;transport=tcp'],
  ['sip:carol@chicago.com', 'sip:carol@chicago.com?Subject=next%20meeting'],
  ['sip:bob@phone21.boxesbybob.com', 'sip:bob@192.0.2.4'],
  ['sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off'],
];

t.test('uriEquals: the equal examples of RFC 3261 §19.1.4 compare equal (both ways)', (t) => {
  for (const [a, b] of EQUAL) {
    t.ok(uriEquals(u(a), u(b)), `${a} == ${b}`);
    t.ok(uriEquals(u(b), u(a)), `${b} == ${a}`);
  }
  t.end();
});

t.test('uriEquals: the unequal examples of RFC 3261 §19.1.4 compare unequal (both ways)', (t) => {
  for (const [a, b] of NOT_EQUAL) {
    t.notOk(uriEquals(u(a), u(b)), `${a} != ${b}`);
    t.notOk(uriEquals(u(b), u(a)), `${b} != ${a}`);
  }
  t.end();
});

t.test(
  'uriEquals: sip never equals sips; user, ttl, method and maddr in one URI only never match',
  (t) => {
    t.notOk(uriEquals(u('sip:a@b'), u('sips:a@b')));
    for (const p of ['user=phone', 'ttl=1', 'method=INVITE', 'maddr=1.2.3.4']) {
      t.notOk(uriEquals(u('sip:a@b'), u(`sip:a@b;${p}`)), p);
    }
    t.end();
  },
);

t.test(
  'uriEquals: escaped parameter names and values compare as their characters, one level deep',
  (t) => {
    t.ok(uriEquals(u('sip:a@b;%6C%72;n%61me=v%61lue'), u('sip:a@b;lr;name=value')));
    t.notOk(
      uriEquals(u('sip:a@b;name=value%25%34%31'), u('sip:a@b;name=valueA')),
      'no recursive unescape',
    );
    t.end();
  },
);

t.test(
  'uriEquals: tel URIs ignore visual separators (RFC 3966 §4); other schemes compare exactly',
  (t) => {
    t.ok(uriEquals(u('tel:+1-201-555-0123'), u('tel:+1.201.555.0123')));
    t.notOk(uriEquals(u('tel:+12015550123'), u('tel:+12015550124')));
    t.notOk(uriEquals(u('tel:+1'), u('sip:+1@h')));
    t.ok(uriEquals(u('urn:a:b'), u('urn:a:b')));
    t.end();
  },
);
