// RFC 5118 IPv6 torture messages: each of the 12 messages of §4 gets the outcome the RFC prescribes.
// The fixtures are the RFC's messages in wire form (CRLF); see test/fixtures/rfc5118/README.md.
import { isIPv6 } from 'node:net';
import t from 'tap';
import { parseUri } from '../../src/message/sip-uri.js';
import type { SipUri } from '../../src/message/sip-uri.js';
import type { SipMessage, SipRequest } from '../../src/message/sip-message.js';
import { headerEnd, listFixtures, loadFixture, runExpectation } from '../support/fixtures.js';
import type { Expect } from '../support/fixtures.js';

const req = (m: SipMessage): SipRequest => {
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
};
const sip = (s: string): SipUri => {
  const r = parseUri(s);
  if (!r.ok || (r.uri.scheme !== 'sip' && r.uri.scheme !== 'sips'))
    throw new Error(`not a SIP URI: ${s}`);
  return r.uri as SipUri;
};
/** An IPv6 reference with its brackets, whichever way a field holds it (Via received may omit them). */
const ref = (host: string | undefined): string =>
  host === undefined || host.startsWith('[') ? String(host) : `[${host}]`;

interface Case {
  name: string;
  section: string;
  title: string;
  expect: Expect;
}

const cases: Case[] = [
  {
    name: 'ipv6-good',
    section: '4.1',
    title: 'IPv6 references in Request-URI, Via and Contact parse',
    expect: {
      accept: (t, m) => {
        const u = sip(req(m).uri);
        t.same([u.host, u.port], ['[2001:db8::10]', undefined]);
        t.same(
          [m.topVia?.host, m.topVia?.port, m.topVia?.branch],
          ['[2001:db8::9:1]', undefined, 'z9hG4bKas3-111'],
        );
        t.equal(sip(m.contacts[0]?.uri ?? '').host, '[2001:db8::1]');
        t.equal(m.contacts[0]?.displayName, 'Caller');
      },
    },
  },
  // The Request-URI is the only defect: the 400 can be built from the start line and Via.
  {
    name: 'ipv6-bad',
    section: '4.2',
    title: 'an IPv6 Request-URI without [ ] is rejected with 400',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        // A parser that keeps the Request-URI raw must leave the TU a URI that does not parse (it answers 400).
        t.notOk(parseUri(req(m).uri).ok, 'sip:2001:db8::10 is not a valid SIP URI');
      },
    },
  },
  {
    name: 'port-ambiguous',
    section: '4.3',
    title: 'a port inside the brackets is part of the address, not a port',
    expect: {
      accept: (t, m) => {
        const u = sip(req(m).uri);
        t.same([u.host, u.port], ['[2001:db8::10:5070]', undefined]);
      },
    },
  },
  {
    name: 'port-unambiguous',
    section: '4.4',
    title: 'a port after the closing bracket is the port',
    expect: {
      accept: (t, m) => {
        const u = sip(req(m).uri);
        t.same([u.host, u.port], ['[2001:db8::10]', 5070]);
      },
    },
  },
  {
    name: 'via-received-param-with-delim',
    section: '4.5',
    title: 'a bracketed IPv6 received parameter parses and the branch after it survives',
    expect: {
      accept: (t, m) => {
        t.equal(req(m).method, 'BYE');
        t.equal(ref(m.topVia?.received), '[2001:db8::9:255]');
        t.equal(m.topVia?.branch, 'z9hG4bKas3-111');
        t.equal(m.toTag, 'bd76ya');
      },
    },
  },
  {
    name: 'via-received-param-no-delim',
    section: '4.5',
    title: 'an IPv6 received parameter without brackets parses',
    expect: {
      accept: (t, m) => {
        t.equal(ref(m.topVia?.received), '[2001:db8::9:255]');
        t.equal(m.topVia?.branch, 'z9hG4bKas3');
        t.equal(sip(m.contacts[0]?.uri ?? '').host, '[2001:db8::9:1]');
      },
    },
  },
  {
    name: 'ipv6-in-sdp',
    section: '4.6',
    title: 'an INVITE with IPv6 addresses in its SDP body parses',
    expect: {
      accept: (t, m, raw) => {
        t.equal(sip(req(m).uri).host, '[2001:db8::10]');
        t.equal(sip(m.to.uri).host, '[2001:db8::10]');
        t.equal(m.topVia?.host, '[2001:db8::20]');
        t.ok(m.body.equals(raw.subarray(headerEnd(raw))), 'body kept as bytes');
        t.ok(m.body.includes('c=IN IP6 2001:db8::20\r\n'));
      },
    },
  },
  {
    name: 'mult-ip-in-header',
    section: '4.7',
    title: 'Via values mixing IPv4 and IPv6 parse in order',
    expect: {
      accept: (t, m) => {
        t.same(
          m.via.map((v) => [v.transport, v.host, v.port, v.branch, v.received]),
          [
            ['UDP', '[2001:db8::9:1]', 6050, 'z9hG4bKas3-111', undefined],
            ['UDP', '192.0.2.1', undefined, 'z9hG4bKjhja8781hjuaij65144', undefined],
            ['TCP', '[2001:db8::9:255]', undefined, 'z9hG4bK451jj', '192.0.2.200'],
          ],
        );
        t.equal(m.toTag, '9817--94');
      },
    },
  },
  {
    name: 'mult-ip-in-sdp',
    section: '4.8',
    title: 'an SDP body with IPv4 and IPv6 media lines is kept intact',
    expect: {
      accept: (t, m, raw) => {
        t.ok(m.body.equals(raw.subarray(headerEnd(raw))));
        t.ok(
          m.body.includes('c=IN IP4 192.0.2.1\r\n') && m.body.includes('c=IN IP6 2001:db8::1\r\n'),
        );
      },
    },
  },
  {
    name: 'ipv4-mapped-ipv6',
    section: '4.9',
    title: 'IPv4-mapped IPv6 references in Via and Contact parse',
    expect: {
      accept: (t, m) => {
        t.same(
          m.via.map((v) => [v.host, v.port]),
          [
            ['[::ffff:192.0.2.10]', 19823],
            ['[::ffff:192.0.2.2]', undefined],
          ],
        );
        t.equal(sip(m.contacts[0]?.uri ?? '').host, '[::ffff:192.0.2.2]');
        t.equal(m.contacts[0]?.displayName, 'T. desk phone');
      },
    },
  },
  // §4.10: the three-colon reference is invalid; a robust parser may accept it (and a proxy may
  // repair it), or reject it with 400. Either way it must not break.
  {
    name: 'ipv6-bug-abnf-3-colons',
    section: '4.10',
    title: 'a three-colon IPv6 reference is rejected with 400 or parsed robustly',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.same(
          [req(m).method, m.topVia?.branch, m.callId],
          ['OPTIONS', 'z9hG4bKas3-111', 'G9559905523997077@hlau_4100'],
        );
        // Robust parsing means reading the address the sender meant, not keeping an invalid one.
        const host = sip(req(m).uri).host;
        t.ok(
          isIPv6(host.slice(1, -1)),
          `the accepted Request-URI host is an IPv6 address (got ${host})`,
        );
      },
    },
  },
  {
    name: 'ipv6-correct-abnf-2-colons',
    section: '4.10',
    title: 'an IPv6 reference with an embedded IPv4 tail parses',
    expect: {
      accept: (t, m) => {
        t.equal(sip(req(m).uri).host, '[2001:db8::192.0.2.1]');
        t.equal(sip(m.to.uri).host, '[2001:db8::192.0.2.1]');
      },
    },
  },
];

t.test('RFC 5118 corpus: the 12 messages of §4 are fixtures and each has an expectation', (t) => {
  const names = listFixtures('rfc5118');
  t.equal(names.length, 12);
  t.same(cases.map((c) => c.name).sort(), names);
  t.end();
});

for (const c of cases) {
  t.test(`RFC 5118 §${c.section} ${c.name}: ${c.title}`, (t) => {
    runExpectation(t, loadFixture('rfc5118', c.name), c.expect);
    t.end();
  });
}
