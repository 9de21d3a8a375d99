import t from 'tap';
import { parse } from 'sdp-transform';
import type { IncomingRequest, SipResponse } from '@switchboard/sip-stack';
import { b2buaHarness, party, until, uriOf, drained } from '../support/call-harness.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

t.test(
  'PRACK: reliable early media from B is PRACKed by us and relayed reliably to A (RFC 3262)',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    let bInvite: IncomingRequest | undefined;
    const bPracked = new Promise<SipResponse>((resolve) => {
      b.onRequest('INVITE', (req) => {
        bInvite = req;
        req.once('prack', (r) => resolve(r));
        req.progress(183, { reliable: true, body: ANSWER_B, contentType: SDP });
      });
    });
    const aPracked = new Promise<void>((resolve) => {
      h.b2bua.once('call', (call) => call.caller.once('prack', () => resolve()));
    });
    const provisionals: SipResponse[] = [];
    const invite = a.invite({
      uri: h.uri,
      body: OFFER_A,
      contentType: SDP,
      headers: { Supported: '100rel' },
      onProvisional: (r) => provisionals.push(r),
    });
    const acked183 = await bPracked;
    t.equal(acked183.status, 183, 'B got a PRACK from the B2BUA');
    t.match(bInvite?.request.headers.get('Supported'), /100rel/, 'B was told we take 100rel');
    await until(() => provisionals.length > 0);
    const toA = provisionals[0];
    t.equal(toA?.status, 183);
    t.equal(toA?.headers.get('Require'), '100rel', 'reliable toward A too');
    t.ok(toA?.headers.get('RSeq'));
    t.equal(parse(toA?.body.toString() ?? '').connection?.ip, h.relay.address);
    await aPracked;
    t.equal(h.calls[0]?.state, 'early');
    bInvite?.accept({ body: ANSWER_B, contentType: SDP });
    const { dialog, response } = await invite;
    t.equal(response.status, 200);
    t.equal(h.calls[0]?.state, 'answered');
    await dialog.bye();
    await drained(t, h);
  },
);

t.test('PRACK: a caller without 100rel gets the early media unreliably', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  b.onRequest('INVITE', (req) => {
    req.progress(183, { reliable: true, body: ANSWER_B, contentType: SDP });
    setTimeout(() => req.accept({ body: ANSWER_B, contentType: SDP }), 20);
  });
  const provisionals: SipResponse[] = [];
  const { dialog } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: SDP,
    onProvisional: (r) => provisionals.push(r),
  });
  t.equal(provisionals[0]?.status, 183);
  t.equal(provisionals[0]?.headers.get('Require'), undefined);
  await dialog.bye();
  await drained(t, h);
});
