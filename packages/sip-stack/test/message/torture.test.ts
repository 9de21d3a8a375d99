// RFC 4475 torture messages: each of the 49 fixtures (decoded from the RFC's Appendix A archive)
// gets the outcome the RFC prescribes. Parser-level outcomes are asserted here; where the RFC's
// answer belongs to a transaction user (416, 420, 483, 501, 415...), the test asserts the parser
// accepts the message and exposes exactly the values that TU needs to decide.
import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import { parseUri, uriEquals } from '../../src/message/sip-uri.js';
import type { SipUri, Uri } from '../../src/message/sip-uri.js';
import type { SipMessage, SipRequest, SipResponse } from '../../src/message/sip-message.js';
import {
  headerEnd,
  listFixtures,
  loadFixture,
  runExpectation,
  sameText,
  pct,
  ws,
} from '../support/fixtures.js';
import type { Check, Expect } from '../support/fixtures.js';

const req = (m: SipMessage): SipRequest => {
  if (m.kind !== 'request') throw new Error('expected a request');
  return m;
};
const res = (m: SipMessage): SipResponse => {
  if (m.kind !== 'response') throw new Error('expected a response');
  return m;
};
const uri = (s: string): Uri => {
  const r = parseUri(s);
  if (!r.ok) throw new Error(`URI does not parse: ${s} (${r.reason})`);
  return r.uri;
};
const sip = (s: string | Uri): SipUri => {
  const u = typeof s === 'string' ? uri(s) : s;
  if (u.scheme !== 'sip' && u.scheme !== 'sips')
    throw new Error(`not a SIP URI: ${JSON.stringify(u)}`);
  return u as SipUri;
};
const hex = (h: string): Buffer => Buffer.from(h, 'hex');
const bodyOf = (raw: Buffer): Buffer => raw.subarray(headerEnd(raw));

const baddnLiberal: Check = (t, m) => {
  t.same(
    [m.from.displayName, m.from.uri, m.fromTag],
    ['Bell, Alexander', 'sip:a.g.bell@example.com', '43'],
  );
  t.same([m.to.displayName, m.to.uri], ['Watson, Thomas', 'sip:t.watson@example.org']);
};

interface Case {
  name: string;
  section: string;
  title: string;
  expect: Expect;
}

const cases: Case[] = [
  // --- §3.1.1 valid messages: every element must accept them ---
  {
    name: 'wsinv',
    section: '3.1.1.1',
    title: 'a short tortuous INVITE parses to the right values',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.method, 'INVITE');
        t.equal(r.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
        t.ok(sip(r.requestUri).params.has('unknownparam'), 'unknown Request-URI parameter kept');
        t.equal(r.to.uri, 'sip:vivekg@chair-dnrc.example.com');
        t.equal(r.toTag, '1918181833n');
        t.equal(r.from.displayName, 'J Rosenberg \\"', 'quoted-pairs in display name unescaped');
        t.equal(r.from.uri, 'sip:jdrosen@example.com');
        t.equal(r.fromTag, '98asjd8');
        t.equal(r.maxForwards, 68, 'leading zeros');
        t.equal(r.callId, 'wsinv.ndaksdj@192.0.2.1');
        t.same(r.cseq, { seq: 9, method: 'INVITE' });
        t.same(
          r.via.map((v) => [v.protocol, v.transport, v.host, v.branch]),
          [
            ['SIP/2.0', 'UDP', '192.0.2.2', '390skdjuw'],
            ['SIP/2.0', 'TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
            ['SIP/2.0', 'UDP', '192.168.255.111', 'z9hG4bK30239'],
          ],
        );
        t.equal(r.topVia?.branch, '390skdjuw');
        t.ok(r.headers.has('Subject'), 'empty compact "s" header kept');
        t.equal(ws(r.headers.get('Subject') ?? 'missing'), '');
        t.equal(
          ws(r.headers.get('NewFangledHeader') ?? ''),
          'newfangled value continued newfangled value',
        );
        t.equal(r.headers.get('UnknownHeaderWithUnusualValue')?.trim(), ';;,,;;,;');
        t.same(
          r.routes.map((x) => x.uri),
          ['sip:services.example.com;lr;unknownwith=value;unknown-no-value'],
        );
        t.equal(r.contacts.length, 1);
        const c = r.contacts[0];
        t.equal(c?.displayName, 'Quoted string ""');
        t.equal(c?.uri, 'sip:jdrosen@example.com');
        t.equal(c?.params.get('newparam'), 'newvalue');
        t.equal(c?.params.get('secondparam'), null);
        t.equal(c?.q, 0.33);
        t.equal(r.headers.get('Content-Type'), 'application/sdp');
        t.equal(r.body.length, 150);
      },
    },
  },
  {
    name: 'intmeth',
    section: '3.1.1.2',
    title: 'the full range of token characters parses',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        const method = "!interesting-Method0123456789_*+`.%indeed'~";
        t.equal(r.method, method, '% is not an escape in a method');
        t.equal(
          r.uri,
          "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com",
        );
        const u = sip(r.requestUri);
        t.equal(u.host, 'example.com');
        t.equal(u.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
        t.equal(u.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
        t.equal(r.topVia?.branch, "z9hG4bK-.!%66*_+`'~");
        t.equal(r.to.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f', 'quoted-pairs incl. NUL');
        t.equal(r.to.uri, "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com");
        t.equal(r.from.displayName, "token1~` token2'+_ token3*%!.-");
        t.equal(r.from.uri, 'sip:mundane@example.com');
        t.equal(r.fromTag, "_token~1'+`*%!-.");
        const p = r.from.params.get("fromparam''~+*_!.-%");
        t.ok(
          sameText(
            p,
            Buffer.concat([hex('22'), hex('D180D0B0D0B1D0BED182D0B0D18ED189D0B8D0B9'), hex('22')]),
          ),
          'UTF-8 param value',
        );
        t.equal(r.callId, 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
        t.same(r.cseq, { seq: 139122385, method });
        t.equal(r.maxForwards, 255);
        t.ok(
          sameText(r.headers.get("extensionHeader-!.%*+_`'~"), hex('EFBBBFE5A4A7E5819CE99BBB')),
          'UTF-8 header value',
        );
        t.equal(r.body.length, 0);
      },
    },
  },
  {
    name: 'esc01',
    section: '3.1.1.3',
    title: '% HEX HEX escapes parse and compare as the characters they encode',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.uri, 'sip:sips%3Auser%40example.com@example.net');
        const u = sip(r.requestUri);
        t.equal(u.host, 'example.net');
        t.equal(pct(u.user ?? ''), 'sips:user@example.com');
        t.ok(
          uriEquals(uri(r.to.uri), uri('sip:user@example.com')),
          'To sip:%75se%72 equals sip:user (§19.1.4)',
        );
        t.equal(pct(sip(r.from.uri).user ?? ''), 'I have spaces');
        t.equal(r.fromTag, '938');
        t.equal(r.callId, 'esc01.239409asdfakjkn23onasd0-3234');
        t.same(r.cseq, { seq: 234234, method: 'INVITE' });
        t.equal(r.headers.get('Content-Type'), 'application/sdp', 'compact "c"');
        const c = r.contacts[0]?.uri ?? '';
        t.equal(c, 'sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
        t.ok(
          uriEquals(uri(c), uri('sip:caller@host5.example.net;lr;name=value%25%34%31')),
          'escaped params equal unescaped',
        );
        t.notOk(
          uriEquals(uri(c), uri('sip:caller@host5.example.net;lr;name=valueA')),
          'value%41 is not valueA (no recursive unescape)',
        );
        t.equal(r.body.length, 150);
      },
    },
  },
  {
    name: 'escnull',
    section: '3.1.1.4',
    title: 'escaped NULs in URIs keep the user part whole',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.method, 'REGISTER');
        t.equal(r.to.uri, 'sip:null-%00-null@example.com');
        t.equal(pct(sip(r.to.uri).user ?? ''), 'null-\x00-null');
        t.equal(r.fromTag, '839923423');
        t.same(
          r.contacts.map((c) => c.uri),
          ['sip:%00@host5.example.com', 'sip:%00%00@host5.example.com'],
        );
        t.notOk(
          uriEquals(uri('sip:%00@host5.example.com'), uri('sip:%00%00@host5.example.com')),
          'two distinct contacts',
        );
        t.equal(r.body.length, 0, 'compact "L:0"');
      },
    },
  },
  {
    name: 'esc02',
    section: '3.1.1.5',
    title: '% where it is not an escape is taken literally',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.method, 'RE%47IST%45R', 'unknown method, not REGISTER');
        t.equal(r.cseq.method, 'RE%47IST%45R');
        t.equal(r.to.displayName, '%Z%45');
        t.equal(r.from.displayName, '%Z%45');
        t.same(
          r.contacts.map((c) => c.uri),
          ['sip:alias1@host1.example.com', 'sip:alias3@host3.example.com'],
          'two Contact values, not three',
        );
        t.equal(
          r.headers.get('C%6Fntact')?.trim(),
          '<sip:alias2@host2.example.com>',
          'C%6Fntact is an unknown header',
        );
        t.equal(r.topVia?.branch, 'z9hG4bK209%fzsnel234');
      },
    },
  },
  {
    name: 'lwsdisp',
    section: '3.1.1.6',
    title: 'a display name with no LWS before < is accepted',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.method, 'OPTIONS');
        t.equal(r.from.displayName, 'caller');
        t.equal(r.from.uri, 'sip:caller@example.com');
        t.equal(r.fromTag, '323');
      },
    },
  },
  {
    name: 'longreq',
    section: '3.1.1.7',
    title: 'long values and 34 Via lines parse',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.to.displayName, `I have a user name of ${'extreme'.repeat(10)} proportion`);
        const to = sip(r.to.uri);
        t.equal(to.port, 6000);
        t.equal(to.params.get('unknownparam1'), `very${'long'.repeat(20)}value`);
        t.equal(to.params.get(`longparam${'name'.repeat(25)}`), 'shortvalue');
        t.equal(to.params.get(`very${'long'.repeat(25)}parameternamewithnovalue`), null);
        t.equal(r.from.uri, `sip:${'amazinglylongcallername'.repeat(5)}@example.net`);
        t.equal(r.fromTag, `12${'982'.repeat(50)}424`);
        t.equal(
          r.from.params.get(`unknownheaderparam${'name'.repeat(20)}`),
          `unknowheaderparam${'value'.repeat(15)}`,
        );
        t.equal(r.from.params.get(`unknownvalueless${'paramname'.repeat(10)}`), null);
        t.equal(r.callId, `longreq.one${'really'.repeat(20)}longcallid`);
        t.same(r.cseq, { seq: 3882340, method: 'INVITE' });
        t.equal(r.via.length, 34, 'every Via line, compact and odd-cased names included');
        t.equal(r.topVia?.host, 'sip33.example.com');
        t.equal(r.via[32]?.host, 'sip1.example.com');
        const last = r.via[33];
        t.equal(last?.host, 'host.example.com');
        t.equal(last?.received, '192.0.2.5');
        t.equal(last?.branch, `very${'long'.repeat(50)}branchvalue`);
        t.ok(r.headers.has(`Unknown-${'Long'.repeat(20)}-Name`));
        t.equal(r.contacts[0]?.uri, `sip:${'amazinglylongcallername'.repeat(5)}@host5.example.net`);
        t.equal(r.maxForwards, 70);
        t.equal(r.body.length, 150);
      },
    },
  },
  {
    name: 'dblreq',
    section: '3.1.1.8',
    title: 'octets after Content-Length in a datagram are ignored',
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.method, 'REGISTER');
        t.equal(r.callId, 'dblreq.0ha0isndaksdj99sdfafnl3lk233412', 'compact "I"');
        t.same(r.cseq, { seq: 8, method: 'REGISTER' });
        t.equal(r.contacts[0]?.uri, 'sip:j.user@host.example.com');
        t.equal(r.body.length, 0);
        t.notOk(r.toBuffer().includes('INVITE'), 'the INVITE octets are not forwarded');
      },
    },
  },
  {
    name: 'semiuri',
    section: '3.1.1.9',
    title: 'a ; in the Request-URI user part stays in the user part',
    expect: {
      accept: (t, m) => {
        const u = sip(req(m).requestUri);
        t.equal(pct(u.user ?? ''), 'user;par=u@example.net');
        t.equal(u.host, 'example.com');
        t.equal(u.params.size, 0, 'no URI parameters');
        t.same(
          m.headers.values('Accept').map((v) => v.trim()),
          [
            'application/sdp',
            'application/pkcs7-mime',
            'multipart/mixed',
            'multipart/signed',
            'message/sip',
            'message/sipfrag',
          ],
        );
      },
    },
  },
  {
    name: 'transports',
    section: '3.1.1.10',
    title: 'known and unknown Via transports parse',
    expect: {
      accept: (t, m) => {
        t.same(
          m.via.map((v) => [v.transport, v.host]),
          [
            ['UDP', 't1.example.com'],
            ['SCTP', 't2.example.com'],
            ['TLS', 't3.example.com'],
            ['UNKNOWN', 't4.example.com'],
            ['TCP', 't5.example.com'],
          ],
        );
        t.equal(m.callId, 'transports.kijh4akdnaqjkwendsasfdj');
      },
    },
  },
  {
    name: 'mpart01',
    section: '3.1.1.11',
    title: 'a multipart body with NUL octets is framed by Content-Length and kept intact',
    expect: {
      accept: (t, m, raw) => {
        const r = req(m);
        t.equal(r.method, 'MESSAGE');
        const v = r.topVia;
        t.same(
          [v?.host, v?.port, v?.branch, v?.rport],
          ['127.0.0.1', 5070, 'z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-', null],
        );
        t.same(
          r.routes.map((x) => x.uri),
          ['sip:127.0.0.1:5080'],
        );
        t.equal(r.callId, '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..');
        t.equal(r.headers.get('Content-Type'), 'multipart/mixed;boundary=7a9cbec02ceef655');
        t.equal(r.body.length, 553);
        t.ok(r.body.equals(bodyOf(raw)), 'body bytes identical');
        t.ok(r.body.includes(0), 'binary part with NUL kept');
      },
    },
  },
  {
    name: 'unreason',
    section: '3.1.1.12',
    title: 'a UTF-8 reason phrase is accepted',
    expect: {
      accept: (t, m, raw) => {
        const r = res(m);
        t.equal(r.status, 200);
        const phrase = raw.subarray('SIP/2.0 200 '.length, raw.indexOf('\r\n'));
        t.ok(sameText(r.reason, phrase), 'reason phrase bytes kept');
        t.ok(r.reason.startsWith('= 2**3 * 5**2 '));
        t.equal(r.toTag, '2229');
        t.same(r.cseq, { seq: 35, method: 'INVITE' });
        t.equal(r.body.length, 154);
      },
    },
  },
  {
    name: 'noreason',
    section: '3.1.1.13',
    title: 'an empty reason phrase is accepted',
    expect: {
      accept: (t, m) => {
        const r = res(m);
        t.equal(r.status, 100);
        t.equal(r.reason, '');
        t.equal(r.toTag, '902jndnke3');
      },
    },
  },
  // --- §3.1.2 invalid messages ---
  // The defect includes the top Via itself: with no Via to answer along (RFC 3261 §18.2.2),
  // discarding is the alternative to the 400 the RFC recommends.
  {
    name: 'badinv01',
    section: '3.1.2.1',
    title: 'extraneous ; and , in Via and Contact are rejected with 400',
    expect: { reject: 400, orDrop: true },
  },
  {
    name: 'clerr',
    section: '3.1.2.2',
    title: 'Content-Length larger than the datagram is rejected with 400 (stream: wait for more)',
    expect: {
      reject: 400,
      answerable: ['INVITE', 'z9hG4bK-39234-23523'],
      framing: true,
      stream: 'SIP_ERR_INCOMPLETE',
    },
  },
  {
    name: 'ncl',
    section: '3.1.2.3',
    title: 'a negative Content-Length is rejected (stream: unrecoverable framing error)',
    expect: {
      reject: 400,
      answerable: ['INVITE', 'z9hG4bKkdjuw'],
      framing: true,
      stream: 'SIP_ERR_PARSE',
      also: (t, raw) => {
        // RFC 4475 §3.1.2.3: the same applies to a non-numeric value such as "five"
        const five = Buffer.from(
          raw.toString('latin1').replace('Content-Length: -999', 'Content-Length: five'),
          'latin1',
        );
        const r = parseMessage(five);
        t.ok(!r.ok && r.error.status === 400, 'Content-Length: five is rejected with 400');
      },
    },
  },
  {
    name: 'scalar02',
    section: '3.1.2.4',
    title: 'a CSeq number above 2**32-1 is rejected with 400',
    expect: { reject: 400, answerable: ['REGISTER', 'z9hG4bK342sdfoi3'] },
  },
  {
    name: 'scalarlg',
    section: '3.1.2.5',
    title: 'a response with overlarge scalar values is discarded',
    expect: { drop: true },
  },
  {
    name: 'quotbal',
    section: '3.1.2.6',
    title: 'an unterminated quoted display name is rejected with 400',
    expect: { reject: 400, answerable: ['INVITE', 'z9hG4bKkdjuw39234'] },
  },
  {
    name: 'ltgtruri',
    section: '3.1.2.7',
    title: 'a Request-URI in <> is rejected with 400, or accepted without the brackets',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.equal(req(m).uri, 'sip:user@example.com', 'brackets never forwarded');
        t.ok(
          req(m)
            .toBuffer()
            .toString('latin1')
            .startsWith('INVITE sip:user@example.com SIP/2.0\r\n'),
        );
      },
    },
  },
  {
    name: 'lwsruri',
    section: '3.1.2.8',
    title: 'LWS inside the Request-URI is rejected with 400, or removed',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.ok(
          req(m)
            .toBuffer()
            .toString('latin1')
            .startsWith('INVITE sip:user@example.com;lr SIP/2.0\r\n'),
        );
      },
    },
  },
  {
    name: 'lwsstart',
    section: '3.1.2.9',
    title: 'multiple SP in the request line are rejected, or not forwarded',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        const r = req(m);
        t.same([r.method, r.uri], ['INVITE', 'sip:user@example.com']);
        t.ok(r.toBuffer().toString('latin1').startsWith('INVITE sip:user@example.com SIP/2.0\r\n'));
      },
    },
  },
  {
    name: 'trws',
    section: '3.1.2.10',
    title: 'SP at the end of the request line are rejected, or not forwarded',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.equal(req(m).uri, 'sip:remote-target@example.com');
        t.ok(
          req(m)
            .toBuffer()
            .toString('latin1')
            .startsWith('OPTIONS sip:remote-target@example.com SIP/2.0\r\n'),
        );
      },
    },
  },
  {
    name: 'escruri',
    section: '3.1.2.11',
    title: 'escaped headers in the Request-URI are rejected, or never turned into headers',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.notOk(m.headers.has('Route'), 'the escaped Route is not a header of the message');
        t.equal(req(m).method, 'INVITE');
      },
    },
  },
  {
    name: 'baddate',
    section: '3.1.2.12',
    title: 'a non-GMT Date is accepted when the Date is not used',
    expect: {
      accept: (t, m) => {
        t.equal(m.headers.get('Date'), 'Fri, 01 Jan 2010 16:00:00 EST', 'kept verbatim');
        t.equal(m.body.length, 150);
      },
    },
  },
  {
    name: 'regbadct',
    section: '3.1.2.13',
    title: 'a Contact URI with headers outside <> is rejected, or read whole',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.equal(m.contacts[0]?.uri, 'sip:user@example.com?Route=%3Csip:sip.example.com%3E');
      },
    },
  },
  {
    name: 'badaspec',
    section: '3.1.2.14',
    title: 'spaces inside <addr-spec> are rejected with 400, or ignored',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.equal(m.to.uri, 'sip:t.watson@example.org');
        t.equal(m.to.displayName, 'Watson, Thomas');
      },
    },
  },
  // The archived baddn message also lacks the empty line that ends the header section, which is
  // reason enough to reject it; `also` checks the display names on the message with that line added.
  {
    name: 'baddn',
    section: '3.1.2.15',
    title: 'unquoted non-token display names are rejected with 400, or quoted',
    expect: {
      rejectOr: 400,
      liberal: baddnLiberal,
      also: (t, raw) => {
        t.comment('the same message with its header section terminated:');
        runExpectation(t, Buffer.concat([raw, Buffer.from('\r\n')]), {
          rejectOr: 400,
          liberal: baddnLiberal,
        });
      },
    },
  },
  {
    name: 'badvers',
    section: '3.1.2.16',
    title: 'SIP/7.0 is answered with 505',
    expect: {
      reject: 505,
      code: 'SIP_ERR_VERSION',
      answerable: ['OPTIONS', 'z9hG4bKkdjuw'],
      framing: true,
    },
  },
  {
    name: 'mismatch01',
    section: '3.1.2.17',
    title: 'a CSeq method unlike the request method is rejected with 400',
    expect: { reject: 400, answerable: ['OPTIONS', 'z9hG4bKkdjuw'] },
  },
  // A parser cannot know which methods the element implements: either it rejects (400/501), or it
  // parses and the TU answers 501 from the method and CSeq it sees.
  {
    name: 'mismatch02',
    section: '3.1.2.18',
    title: 'an unknown method with a CSeq mismatch is rejected (501 or 400)',
    expect: {
      rejectOr: [501, 400],
      liberal: (t, m) => {
        t.same([req(m).method, m.cseq.method], ['NEWMETHOD', 'INVITE']);
      },
    },
  },
  {
    name: 'bigcode',
    section: '3.1.2.19',
    title: 'a response code above 699 is dropped',
    expect: { drop: true },
  },
  // --- §3.2 transaction layer ---
  {
    name: 'badbranch',
    section: '3.2.1',
    title: 'a bare z9hG4bK branch does not break the parser',
    expect: {
      rejectOr: 400,
      liberal: (t, m) => {
        t.equal(m.topVia?.branch, 'z9hG4bK', 'the TU sees the empty transaction id');
      },
    },
  },
  // --- §3.3 application layer ---
  {
    name: 'insuf',
    section: '3.3.1',
    title: 'missing Call-ID, From and To are rejected with 400',
    expect: { reject: 400, answerable: ['INVITE', 'z9hG4bKkdj.insuf'] },
  },
  // 416 Unsupported URI Scheme is the TU's answer: the parser must accept and expose the scheme.
  {
    name: 'unkscm',
    section: '3.3.2',
    title: "an unknown Request-URI scheme parses (416 is the TU's)",
    expect: {
      accept: (t, m) => {
        const r = req(m);
        t.equal(r.uri, 'nobodyKnowsThisScheme:totallyopaquecontent');
        t.equal(r.requestUri.scheme.toLowerCase(), 'nobodyknowsthisscheme');
      },
    },
  },
  {
    name: 'novelsc',
    section: '3.3.3',
    title: "a known but atypical Request-URI scheme parses (416/404 is the TU's)",
    expect: {
      accept: (t, m) => {
        t.equal(req(m).uri, 'soap.beep://192.0.2.103:3002');
        t.equal(req(m).requestUri.scheme.toLowerCase(), 'soap.beep');
      },
    },
  },
  {
    name: 'unksm2',
    section: '3.3.4',
    title: "non-SIP schemes in To, From and Contact parse (400 is the registrar's)",
    expect: {
      accept: (t, m) => {
        t.same(
          [m.to.uri, m.from.uri, m.fromTag, m.contacts[0]?.uri],
          ['isbn:2983792873', 'http://www.example.com', '3234233', 'name:John_Smith'],
        );
      },
    },
  },
  {
    name: 'bext01',
    section: '3.3.5',
    title: "Require and Proxy-Require values are exposed (420 is the TU's)",
    expect: {
      accept: (t, m) => {
        t.same(
          m.headers.values('Require').map((v) => v.trim()),
          ['nothingSupportsThis', 'nothingSupportsThisEither'],
        );
        t.same(
          m.headers.values('Proxy-Require').map((v) => v.trim()),
          ['noProxiesSupportThis', 'norDoAnyProxiesSupportThis'],
        );
        t.equal(m.topVia?.transport, 'TLS');
      },
    },
  },
  {
    name: 'invut',
    section: '3.3.6',
    title: "an unknown Content-Type parses (415 is the endpoint's)",
    expect: {
      accept: (t, m, raw) => {
        t.equal(m.headers.get('Content-Type'), 'application/unknownformat');
        t.ok(m.body.equals(bodyOf(raw)) && m.body.length === 40);
      },
    },
  },
  {
    name: 'regaut01',
    section: '3.3.7',
    title: 'an unknown Authorization scheme is kept and forwarded unmodified',
    expect: {
      accept: (t, m) => {
        t.equal(m.headers.get('Authorization'), 'NoOneKnowsThisScheme opaque-data=here');
        t.ok(m.toBuffer().includes('Authorization: NoOneKnowsThisScheme opaque-data=here\r\n'));
      },
    },
  },
  {
    name: 'multi01',
    section: '3.3.8',
    title: 'several Call-ID, To, From, CSeq and Max-Forwards values are rejected with 400',
    expect: { reject: 400, answerable: ['INVITE', 'z9hG4bKkdjuw'] },
  },
  {
    name: 'mcl01',
    section: '3.3.9',
    title: 'conflicting Content-Length values are a framing error',
    expect: {
      reject: 400,
      answerable: ['OPTIONS', 'z9hG4bK293423'],
      framing: true,
      stream: 'SIP_ERR_PARSE',
    },
  },
  {
    name: 'bcast',
    section: '3.3.10',
    title: "a response with a broadcast Via parses (dropping it is the proxy's)",
    expect: {
      accept: (t, m) => {
        t.equal(res(m).status, 200);
        t.same(
          m.via.map((v) => v.host),
          ['192.0.2.198', '255.255.255.255'],
        );
      },
    },
  },
  {
    name: 'zeromf',
    section: '3.3.11',
    title: "Max-Forwards: 0 parses to 0 (483 is the proxy's)",
    expect: {
      accept: (t, m) => {
        t.equal(m.maxForwards, 0);
      },
    },
  },
  {
    name: 'cparam01',
    section: '3.3.12',
    title: 'a parameter after an addr-spec Contact is a contact-param',
    expect: {
      accept: (t, m) => {
        const c = m.contacts[0];
        t.equal(c?.uri, 'sip:+19725552222@gw1.example.net');
        t.equal(c?.params.get('unknownparam'), null);
        t.notOk(sip(c?.uri ?? '').params.has('unknownparam'), 'not a url-parameter');
      },
    },
  },
  {
    name: 'cparam02',
    section: '3.3.13',
    title: 'a parameter inside <> is a url-parameter',
    expect: {
      accept: (t, m) => {
        const c = m.contacts[0];
        t.equal(c?.uri, 'sip:+19725552222@gw1.example.net;unknownparam');
        t.notOk(c?.params.has('unknownparam'), 'not a contact-param');
        t.ok(sip(c?.uri ?? '').params.has('unknownparam'));
      },
    },
  },
  {
    name: 'regescrt',
    section: '3.3.14',
    title: 'an escaped header in a Contact URI is kept',
    expect: {
      accept: (t, m) => {
        const c = m.contacts[0]?.uri ?? '';
        t.equal(c, 'sip:user@example.com?Route=%3Csip:sip.example.com%3E', 'compact "M"');
        t.equal(pct(sip(c).headers.get('Route') ?? ''), '<sip:sip.example.com>');
        t.equal(m.body.length, 0);
      },
    },
  },
  {
    name: 'sdp01',
    section: '3.3.15',
    title: "an unacceptable Accept parses (406/400 is the TU's)",
    expect: {
      accept: (t, m) => {
        t.equal(m.headers.get('Accept'), 'text/nobodyKnowsThis');
        t.equal(m.body.length, 150);
      },
    },
  },
  // --- §3.4 backward compatibility ---
  {
    name: 'inv2543',
    section: '3.4.1',
    title: 'an RFC 2543 INVITE parses: no branch, no From tag, body to the end',
    expect: {
      accept: (t, m, raw) => {
        t.equal(m.topVia?.host, 'iftgw.example.com');
        t.equal(m.topVia?.branch, undefined);
        t.equal(m.fromTag, undefined);
        t.equal(m.maxForwards, undefined);
        t.equal(
          m.to.uri,
          'sip:+16505552222@ss1.example.net',
          'addr-spec: ;user=phone is a header param',
        );
        t.equal(m.to.params.get('user'), 'phone');
        t.equal(m.from.uri, 'sip:+13035551111@ift.client.example.net;user=phone');
        t.same(
          m.recordRoutes.map((x) => x.uri),
          ['sip:UserB@example.com;maddr=ss1.example.com'],
        );
        t.ok(
          m.body.equals(bodyOf(raw)) && m.body.length === 105,
          'no Content-Length in a datagram: body is the rest',
        );
      },
    },
  },
];

t.test('RFC 4475 corpus: the 49 messages of §3 are fixtures and each has an expectation', (t) => {
  const names = listFixtures('rfc4475');
  t.equal(names.length, 49);
  t.same(cases.map((c) => c.name).sort(), names);
  t.end();
});

for (const c of cases) {
  t.test(`RFC 4475 §${c.section} ${c.name}: ${c.title}`, (t) => {
    runExpectation(t, loadFixture('rfc4475', c.name), c.expect);
    t.end();
  });
}
