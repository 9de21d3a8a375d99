// SipMessage#routeUris: the Route set as parsed URIs, read in place from the received bytes. It
// must list exactly the URIs of SipMessage#routes (parsed with parseUri) in the same order, for
// every message, and follow changes made to the headers.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { parseUri, type Uri } from '../../src/message/sip-uri.js';
import type { SipMessage } from '../../src/message/sip-message.js';
import { createRng, mutate } from '../../../../bench/parser/mutate.mjs';
import { parserCorpus } from '../support/fixtures.js';

const request = (...routeLines: string[]): SipMessage => {
  const text = [
    'OPTIONS sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1',
    ...routeLines,
    'From: <sip:alice@example.com>;tag=1',
    'To: <sip:bob@example.com>',
    'Call-ID: route-uris-1',
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parseMessage(Buffer.from(text, 'utf8'));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

const entries = (m: Map<string, string | null>): unknown => [...m.entries()];
const view = (u: Uri): unknown =>
  'host' in u
    ? { ...u, params: entries(u.params), headers: entries(u.headers) }
    : 'number' in u
      ? { ...u, params: entries(u.params) }
      : u;
/** What routeUris must equal: the name-addr route set with each URI parsed from its text. */
const expected = (m: SipMessage): unknown =>
  m.routes.map((r) => {
    const p = parseUri(r.uri);
    return view(p.ok ? p.uri : { scheme: '', raw: r.uri });
  });

t.test('a single Route gives its parsed URI with its parameters', (t) => {
  const m = request('Route: <sip:edge1.example.net;lr>');
  t.equal(m.routeUris.length, 1);
  const u = m.routeUris[0];
  t.ok(u !== undefined && 'host' in u);
  if (u !== undefined && 'host' in u) {
    t.equal(u.host, 'edge1.example.net');
    t.same([...u.params.entries()], [['lr', null]]);
  }
  t.end();
});

t.test('Route values on several lines and after commas keep their order', (t) => {
  const m = request(
    'Route: <sip:a.example.net;lr>, <sip:b.example.net:5070;lr;transport=tcp>;x=1',
    'Route: <sips:c.example.net;lr>',
  );
  t.same(
    m.routeUris.map((u) => ('host' in u ? `${u.scheme}:${u.host}:${u.port ?? ''}` : u.scheme)),
    ['sip:a.example.net:', 'sip:b.example.net:5070', 'sips:c.example.net:'],
  );
  t.same(m.routeUris.map(view), expected(m));
  t.end();
});

t.test('display names, LWS, upper-case hosts and UTF-8 read like the name-addr route set', (t) => {
  const cases = [
    'Route: "Edge" <sip:edge1.example.net;lr>',
    'Route: < sip:edge1.example.net;lr >',
    'Route: <sip:EDGE1.Example.NET;LR>',
    'Route: <sip:edge1.example.net;lr>;name="a, b"',
    'Route: "Zürich" <sip:zrh.example.net;lr>',
    'Route: <tel:+14155550123>, <mailto:ops@example.net>',
    'Route: <sip:[2001:db8::1]:5060;lr>',
    // (a "," inside "<>": a URI userinfo or an absolute URI may hold one)
    'Route: <sip:a,b@edge1.example.net;lr>, <sip:c:d,e@edge2.example.net>',
    'Route: <urn:a,b>, <sip:edge1.example.net;lr>',
  ];
  for (const line of cases) {
    const m = request(line);
    t.ok(m.routeUris.length > 0, line);
    t.same(m.routeUris.map(view), expected(m), line);
  }
  t.end();
});

t.test(
  'Route lines with junk after ">" or SP inside "<>" read like the name-addr route set',
  (t) => {
    for (const line of [
      'Route: <sip:edge1.example.net;lr>x',
      'Route: <sip:edge 1.example.net;lr>',
    ]) {
      const m = request(line);
      t.same(m.routeUris.map(view), expected(m), line);
    }
    t.end();
  },
);

t.test('a Route URI that does not parse is kept with its text and an empty scheme', (t) => {
  const m = request('Route: <sip:@;lr>');
  t.same(m.routeUris, [{ scheme: '', raw: 'sip:@;lr' }]);
  t.end();
});

t.test('a Route value that is not a name-addr is left out, as in routes', (t) => {
  const m = request('Route: <sip:a.example.net;lr>, <unterminated', 'Route: <sip:b.example.net>');
  t.same(m.routeUris.map(view), expected(m));
  t.end();
});

t.test(
  'a Route line that fails after a value read in place drops that value, not earlier lines',
  (t) => {
    const m = request('Route: <sip:a.example.net;lr>', 'Route: <sip:b.example.net>, <unterminated');
    t.same(m.routeUris.map(view), expected(m));
    t.same(
      m.routeUris.map((u) => ('host' in u ? u.host : '')),
      ['a.example.net', 'b.example.net'],
    );
    t.end();
  },
);

t.test('routeUris follows changes to the Route header', (t) => {
  const m = request('Route: <sip:a.example.net;lr>, <sip:b.example.net;lr>');
  t.equal(m.routeUris.length, 2);
  m.headers.shiftValue('Route');
  t.same(
    m.routeUris.map((u) => ('host' in u ? u.host : '')),
    ['b.example.net'],
  );
  m.headers.delete('Route');
  t.same(m.routeUris, []);
  t.end();
});

const corpus = parserCorpus();

/** Seeds for the mutants: the fixtures that carry a Route, and a route set in every shape above. */
const routed = [
  ...corpus.filter((b) => /^(route|record-route):/im.test(b.toString('latin1'))),
  ...[
    'Route: <sip:a.example.net;lr>, <sip:b.example.net:5070;lr;transport=tcp>;x=1',
    'Route: "Edge" <sip:edge1.example.net;lr>\r\nRoute: <sips:c.example.net;lr>',
    'Route: <sip:[2001:db8::1]:5060;lr>, <tel:+14155550123>',
  ].map((line) => request(line).toBuffer()),
];

t.test('fixtures and 3,000 mutants: routeUris equals the parsed URIs of routes', (t) => {
  const rng = createRng(0x7007e);
  let withRoutes = 0;
  const all = [...corpus, ...Array.from({ length: 3000 }, () => mutate(rng, routed))];
  for (const buf of all) {
    const r = parseMessage(buf);
    if (!r.ok) continue;
    const got = JSON.stringify(r.message.routeUris.map(view));
    const want = JSON.stringify(expected(r.message));
    if (got !== want) t.equal(got, want, buf.toString('latin1').slice(0, 60));
    if (r.message.routeUris.length > 0) withRoutes++;
  }
  // (the comparison means something only if many messages carry a Route)
  t.ok(withRoutes > 250, `${withRoutes} messages had a Route`);
  t.end();
});
