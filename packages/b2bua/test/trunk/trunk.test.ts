import t from 'tap';
import { DigestServer, ManualClock, computeHa1 } from '@switchboard/sip-stack';
import type { IncomingRequest, SipEndpoint, SipRequest } from '@switchboard/sip-stack';
import { TrunkRegistration } from '../../src/trunk/trunk-registration.js';
import { ChannelLimiter } from '../../src/trunk/channel-limiter.js';
import {
  b2buaHarness,
  failure,
  nextEvent,
  party,
  settle,
  until,
  uriOf,
  type Teardown,
  drained,
} from '../support/call-harness.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

const SDP = 'application/sdp';
const CREDS = { username: 'trunk1', password: 's3cret' };

/** A carrier UAS/registrar that challenges with digest (401 for REGISTER, 407 for INVITE). */
async function carrier(
  t: Teardown,
  mode: 'www' | 'proxy',
): Promise<{ ep: SipEndpoint; requests: SipRequest[] }> {
  const ep = await party(t);
  const digest = new DigestServer({ realm: 'carrier.test', algorithms: ['MD5'], mode });
  const requests: SipRequest[] = [];
  const check = async (req: IncomingRequest): Promise<boolean> => {
    requests.push(req.request);
    const verdict = await digest.verify(req.request, (user, realm, algorithm) =>
      user === CREDS.username ? computeHa1(algorithm, user, realm, CREDS.password) : undefined,
    );
    if (!verdict.ok) req.respondWith(verdict.response);
    return verdict.ok;
  };
  ep.onRequest('REGISTER', async (req) => {
    if (await check(req))
      req.respond(200, {
        headers: { Contact: `${req.request.headers.get('Contact') ?? ''};expires=120` },
      });
  });
  ep.onRequest('INVITE', async (req) => {
    if (await check(req)) req.accept({ body: ANSWER_B, contentType: SDP });
  });
  return { ep, requests };
}

t.test(
  'trunk registration: the first registrar fails, the second takes us with digest, refreshed before expiry',
  async (t) => {
    const clock = new ManualClock();
    const us = await party(t, { clock });
    const broken = await party(t);
    broken.onRequest('REGISTER', (req) => void req.respond(503));
    const good = await carrier(t, 'www');
    const reg = new TrunkRegistration({
      endpoint: us,
      clock,
      registrars: [
        uriOf(broken, 'reg').replace('reg@', ''),
        uriOf(good.ep, 'reg').replace('reg@', ''),
      ],
      aor: 'sip:trunk1@carrier.test',
      credentials: CREDS,
      expires: 300,
    });
    const registered = nextEvent(reg, 'registered');
    reg.start();
    const [info] = await registered;
    t.equal(info.expires, 120, 'the expiry the registrar granted');
    t.equal(reg.registrar, uriOf(good.ep, 'reg').replace('reg@', ''));
    t.equal(good.requests.length, 2, 'challenged once, then authorised');
    t.ok(good.requests[1]?.headers.get('Authorization'));
    const refreshed = nextEvent(reg, 'registered');
    clock.advance(59_000);
    await settle();
    t.equal(good.requests.length, 2, 'no refresh before expiry minus a minute');
    clock.advance(1_000);
    await refreshed;
    const [first, , third] = good.requests;
    t.equal(third?.callId, first?.callId, 'RFC 3261 §10.2.4: same Call-ID');
    t.ok((third?.cseq.seq ?? 0) > (good.requests[1]?.cseq.seq ?? 0), 'higher CSeq');
    await reg.stop();
    t.equal(good.requests.at(-1)?.headers.get('Expires'), '0', 'unregistered on stop');
  },
);

t.test(
  'trunk registration: all registrars fail → failed, then a new round after retryMs',
  async (t) => {
    const clock = new ManualClock();
    const us = await party(t, { clock });
    const broken = await party(t);
    let attempts = 0;
    broken.onRequest('REGISTER', (req) => {
      attempts++;
      req.respond(403);
    });
    const reg = new TrunkRegistration({
      endpoint: us,
      clock,
      registrars: [uriOf(broken, 'x').replace('x@', '')],
      aor: 'sip:trunk1@carrier.test',
      retryMs: 10_000,
    });
    const failed = nextEvent(reg, 'failed');
    reg.start();
    t.match((await failed)[0], { status: 403 });
    t.equal(reg.state, 'failed');
    clock.advance(10_000);
    await until(() => attempts === 2);
    await reg.stop();
  },
);

for (const [mode, header] of [
  ['proxy', 'Proxy-Authorization'],
  ['www', 'Authorization'],
] as const) {
  t.test(
    `outbound INVITE challenged with ${mode === 'proxy' ? 407 : 401} by the carrier is answered with the trunk credentials`,
    async (t) => {
      const a = await party(t);
      const c = await carrier(t, mode);
      const h = await b2buaHarness(t, {
        plan: () => ({ targets: [{ uri: uriOf(c.ep, '4420790000'), credentials: CREDS }] }),
      });
      const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
      t.equal(c.requests.length, 2);
      t.ok(c.requests[1]?.headers.get(header));
      t.equal(h.calls[0]?.state, 'answered');
      await dialog.bye();
      await drained(t, h);
    },
  );
}

t.test(
  'max_channels: a full trunk answers 503 with Retry-After; the channel comes back at hang-up',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    b.onRequest('INVITE', (req) => void req.accept({ body: ANSWER_B, contentType: SDP }));
    const trunk = new ChannelLimiter(1);
    const h = await b2buaHarness(t, {
      plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }], channels: [trunk] }),
    });
    const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
    t.equal(trunk.inUse, 1);
    const full = await failure(a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP }).completed);
    t.equal(full.status, 503);
    t.equal(full.retryAfter, '10');
    await dialog.bye();
    await until(() => trunk.inUse === 0);
    const again = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
    t.equal(again.response.status, 200);
    await again.dialog.bye();
    await drained(t, h, [trunk]);
  },
);

t.test(
  'caller-ID policy: E.164 numbers, presentation number, P-Asserted-Identity, custom and passed headers',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    let seen: SipRequest | undefined;
    b.onRequest('INVITE', (req) => {
      seen = req.request;
      req.accept({ body: ANSWER_B, contentType: SDP });
    });
    const port = b.listeningPoints()[0]?.local.port;
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: `sip:07700900123@127.0.0.1:${port}` }],
        policy: {
          callerId: { e164: { countryCode: '44' }, fromHost: 'carrier.test', assertIdentity: true },
          headers: {
            pass: ['Diversion', 'Via', 'X-Account'],
            set: { 'X-Trunk': 'uk-1' },
            remove: ['X-Account'],
          },
        },
      }),
    });
    const { dialog } = await a.invite({
      uri: h.uri,
      from: '"Alice" <sip:02079460000@pbx.internal>',
      body: OFFER_A,
      contentType: SDP,
      headers: { Diversion: '<sip:100@pbx.internal>;reason=unconditional', 'X-Account': 'acme' },
    });
    t.equal(seen?.uri, `sip:+447700900123@127.0.0.1:${port}`);
    t.equal(seen?.from.uri, 'sip:+442079460000@carrier.test');
    t.equal(seen?.from.displayName, 'Alice');
    t.equal(seen?.headers.get('P-Asserted-Identity'), '<sip:+442079460000@carrier.test>');
    t.equal(seen?.headers.get('Diversion'), '<sip:100@pbx.internal>;reason=unconditional');
    t.equal(seen?.headers.get('X-Trunk'), 'uk-1');
    t.equal(seen?.headers.get('X-Account'), undefined, 'removed by policy');
    t.equal(seen?.via.length, 1, 'Via can never be passed');
    await dialog.bye();
  },
);
