import t from 'tap';
import {
  parseNameAddr,
  parseContact,
  formatNameAddr,
  nameAddrUri,
  createNameAddr,
} from '../../src/message/name-addr.js';

const na = (s: string, strict = false) => {
  const r = parseNameAddr(s, { strict });
  if (!r.ok) throw new Error(`${s}: ${r.reason}`);
  return r.value;
};

t.test('name-addr: quoted display name with escapes, URI and header params', (t) => {
  const v = na('"Alice \\"Al\\" Liddell" <sip:alice@atlanta.com;transport=tcp>;tag=1928301774;X=Y');
  t.equal(v.displayName, 'Alice "Al" Liddell');
  t.equal(v.uri, 'sip:alice@atlanta.com;transport=tcp', 'URI params stay inside the brackets');
  t.equal(v.tag, '1928301774');
  t.same(
    [...v.params],
    [
      ['tag', '1928301774'],
      ['x', 'Y'],
    ],
    'param names lower-cased, values kept',
  );
  t.end();
});

t.test('name-addr: token display name, no display name, no LWS before <', (t) => {
  t.equal(na('Bob   Smith <sip:bob@biloxi.com>').displayName, 'Bob Smith');
  t.equal(na('<sip:bob@biloxi.com>').displayName, undefined);
  t.equal(na('caller<sip:caller@example.com>;tag=323').displayName, 'caller');
  t.end();
});

t.test('addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10)', (t) => {
  const v = na('sip:bob@biloxi.com;tag=a6c85cf;user=phone');
  t.equal(v.uri, 'sip:bob@biloxi.com');
  t.equal(v.tag, 'a6c85cf');
  t.equal(v.params.get('user'), 'phone');
  t.equal(na('tel:+12015550123 ; tag=x').uri, 'tel:+12015550123');
  t.end();
});

t.test('name-addr: malformed values fail with a reason', (t) => {
  for (const bad of [
    '',
    '"unterminated <sip:a@b>',
    '<sip:a@b',
    '<>',
    'Bob sip:a@b',
    '<sip:a@b>;=x',
    '<sip:a@b>;tag=',
    '<sip:a@b> junk',
  ]) {
    t.notOk(parseNameAddr(bad).ok, `rejects ${JSON.stringify(bad)}`);
  }
  t.end();
});

t.test(
  'name-addr: liberal mode takes non-token display names and LWS in <>, strict mode rejects them (RFC 4475 §3.1.2.14/15)',
  (t) => {
    t.equal(na('Bell, Alexander <sip:a.g.bell@example.com>;tag=43').displayName, 'Bell, Alexander');
    t.equal(na('"Watson, Thomas" < sip:t.watson@example.org >').uri, 'sip:t.watson@example.org');
    t.notOk(parseNameAddr('Bell, Alexander <sip:a@b>', { strict: true }).ok);
    t.notOk(parseNameAddr('< sip:a@b >', { strict: true }).ok);
    t.end();
  },
);

t.test('Contact: star, expires and q (RFC 3261 §20.10)', (t) => {
  const star = parseContact(' * ');
  t.ok(star.ok && star.value.star);
  const c = parseContact('<sip:a@b>;expires=3600;q=0.7;+sip.instance="<urn:uuid:1>"');
  t.ok(c.ok);
  if (c.ok) {
    t.equal(c.value.expires, 3600);
    t.equal(c.value.q, 0.7);
    t.equal(
      c.value.params.get('+sip.instance'),
      '"<urn:uuid:1>"',
      'quoted values keep quotes and may hold <>',
    );
    t.notOk(c.value.star);
  }
  t.notOk(parseContact('<sip:a@b>;expires=soon').ok);
  t.notOk(parseContact('<sip:a@b>;expires=4294967296').ok, 'expires above 2^32-1');
  t.notOk(parseContact('<sip:a@b>;q=1.5').ok);
  t.end();
});

t.test('formatNameAddr: quotes display names that are not tokens and always uses <>', (t) => {
  t.equal(formatNameAddr(na('Bob <sip:b@h>;tag=1')), 'Bob <sip:b@h>;tag=1');
  t.equal(formatNameAddr(na('"A, B \\"C\\"" <sip:b@h>')), '"A, B \\"C\\"" <sip:b@h>');
  t.equal(formatNameAddr(na('sip:b@h;tag=2')), '<sip:b@h>;tag=2');
  t.equal(formatNameAddr(createNameAddr('sip:x@y', [['lr', null]], 'Proxy')), 'Proxy <sip:x@y>;lr');
  t.end();
});

t.test('nameAddrUri parses the URI or returns undefined', (t) => {
  t.equal(nameAddrUri(na('<sip:a@B.com>'))?.scheme, 'sip');
  t.equal(nameAddrUri(createNameAddr('sip:')), undefined);
  t.end();
});
