import t from 'tap';
import { createRequest } from '@switchboard/sip-stack';
import { normalizeE164, isE164 } from '../../src/policy/e164.js';
import { outboundIdentity } from '../../src/policy/caller-id.js';
import { outboundHeaders } from '../../src/policy/header-policy.js';

function invite(from: string, headers: Record<string, string> = {}) {
  return createRequest({
    method: 'INVITE',
    uri: 'sip:b2bua@192.0.2.9',
    from: `${from};tag=1`,
    to: '<sip:b2bua@192.0.2.9>',
    callId: 'c1',
    cseq: 1,
    headers,
  });
}

t.test('E.164: national, international and already-normalised numbers', (t) => {
  const uk = { countryCode: '44' };
  t.same(normalizeE164('07700 900123', uk), { ok: true, number: '+447700900123' });
  t.same(normalizeE164('0033 1 23 45 67 89', uk), { ok: true, number: '+33123456789' });
  t.same(normalizeE164('+1 (212) 555-0100', uk), { ok: true, number: '+12125550100' });
  const nanp = {
    countryCode: '1',
    nationalPrefix: '',
    internationalPrefix: '011',
    nationalLength: 10,
  };
  t.same(normalizeE164('2125550100', nanp), { ok: true, number: '+12125550100' });
  t.same(normalizeE164('01144207946000', nanp), { ok: true, number: '+44207946000' });
  t.match(normalizeE164('alice', uk), { ok: false });
  t.match(normalizeE164('123', uk), { ok: false });
  t.match(normalizeE164('0'.repeat(100), uk), { ok: false });
  t.ok(isE164('+447700900123'));
  t.notOk(isE164('+0447700900123'));
  t.end();
});

t.test(
  'privacy id: anonymous From, Privacy header, identity only in P-Asserted-Identity (RFC 3323/3325)',
  (t) => {
    const id = outboundIdentity(invite('"Alice" <sip:1001@pbx>'), 'sip:+15550100@carrier', {
      privacy: 'id',
      assertIdentity: true,
      number: '+15550199',
      fromHost: 'carrier',
    });
    t.equal(id.from, '"Anonymous" <sip:anonymous@anonymous.invalid>');
    t.equal(id.headers['Privacy'], 'id');
    t.equal(id.headers['P-Asserted-Identity'], '<sip:+15550199@carrier>');
    t.equal(id.to, '<sip:+15550100@carrier>');
    t.end();
  },
);

t.test('default identity keeps the caller’s display name and URI', (t) => {
  const id = outboundIdentity(invite('"Al \\"the\\" Pal" <sip:1001@pbx>'), 'sip:bob@example.test');
  t.equal(id.from, '"Al \\"the\\" Pal" <sip:1001@pbx>');
  t.same(id.headers, {});
  t.end();
});

t.test('header policy never copies topology or transaction headers', (t) => {
  const req = invite('<sip:a@pbx>', { 'X-Custom': 'v', Diversion: '<sip:d@pbx>' });
  const out = outboundHeaders(req, {
    pass: ['x-custom', 'Diversion', 'Call-ID', 'Contact', 'Record-Route', 'Via', 'CSeq'],
    set: { 'Max-Forwards': '5', 'X-New': 'n', 'x-custom': 'replaced' },
  });
  t.same(out, { Diversion: '<sip:d@pbx>', 'X-New': 'n', 'x-custom': 'replaced' });
  t.end();
});
