import t from 'tap';
import { TrunkMatcher, type InboundTrunk } from '../../src/trunk/trunk-matcher.js';
import { b2buaHarness, drained, failure, party, uriOf } from '../support/call-harness.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

function matcher(trunks: InboundTrunk[]): TrunkMatcher {
  const r = TrunkMatcher.create(trunks);
  if (!r.ok) throw new Error(r.error.reason);
  return r.matcher;
}

t.test('trunk matcher: addresses, CIDR blocks (v4 and v6), ports and transports', (t) => {
  const m = matcher([
    { id: 'carrier-a', addresses: ['203.0.113.0/28', '2001:db8:a::/48'] },
    { id: 'carrier-b', addresses: ['198.51.100.20'], ports: [5060], protocols: ['udp'] },
  ]);
  t.equal(m.match({ address: '203.0.113.14', port: 5060 })?.id, 'carrier-a');
  t.equal(m.match({ address: '203.0.113.16', port: 5060 }), undefined, 'outside the /28');
  t.equal(m.match({ address: '2001:db8:a:1::5', port: 5060 })?.id, 'carrier-a');
  t.equal(m.match({ address: '::ffff:203.0.113.1', port: 5060 })?.id, 'carrier-a', 'v4-mapped');
  t.equal(m.match({ address: '198.51.100.20', port: 5060, protocol: 'udp' })?.id, 'carrier-b');
  t.equal(m.match({ address: '198.51.100.20', port: 5080, protocol: 'udp' }), undefined, 'port');
  t.equal(
    m.match({ address: '198.51.100.20', port: 5060, protocol: 'tcp' }),
    undefined,
    'transport',
  );
  t.equal(m.match({ address: 'not-an-ip', port: 5060 }), undefined);
  t.end();
});

t.test('trunk matcher: a bad configuration names the trunk and the field', (t) => {
  t.match(TrunkMatcher.create([{ id: 'x', addresses: ['203.0.113.0/33'] }]), {
    ok: false,
    error: { code: 'B2BUA_ERR_CONFIG', trunk: 'x', field: 'addresses' },
  });
  t.match(TrunkMatcher.create([{ id: 'y', addresses: ['carrier.example'] }]), {
    ok: false,
    error: { trunk: 'y', field: 'addresses' },
  });
  t.match(TrunkMatcher.create([{ id: 'z', addresses: ['192.0.2.1'], ports: [70000] }]), {
    ok: false,
    error: { trunk: 'z', field: 'ports' },
  });
  t.match(TrunkMatcher.create([{ id: 'w', addresses: [] }]), { ok: false });
  t.end();
});

t.test(
  'IP-authenticated inbound trunk: INVITEs from its address are taken, others get 403',
  async (t) => {
    const carrier = await party(t);
    const stranger = await party(t);
    const b = await party(t);
    b.onRequest(
      'INVITE',
      (req) => void req.accept({ body: ANSWER_B, contentType: 'application/sdp' }),
    );
    const carrierPort = carrier.listeningPoints()[0]?.local.port ?? 0;
    const trunks = matcher([
      { id: 'loopback-carrier', addresses: ['127.0.0.0/8'], ports: [carrierPort] },
    ]);
    const seen: string[] = [];
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    h.b2bua.route((req) => {
      const trunk = trunks.matchFlow(req.flow);
      seen.push(trunk?.id ?? 'none');
      // RFC 3261 §21.4.4: not a trunk we know → 403 Forbidden.
      return trunk === undefined ? { reject: 403 } : { targets: [{ uri: uriOf(b, 'bob') }] };
    });
    const { dialog } = await carrier.invite({
      uri: h.uri,
      body: OFFER_A,
      contentType: 'application/sdp',
    });
    await dialog.bye();
    const refused = await failure(
      stranger.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
    );
    t.equal(refused.status, 403, 'another source is refused');
    t.same(seen, ['loopback-carrier', 'none']);
    await drained(t, h);
  },
);
