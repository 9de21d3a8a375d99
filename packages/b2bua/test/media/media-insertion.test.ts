import t from 'tap';
import { parse } from 'sdp-transform';
import { nextEvent, settle, until } from '../support/call-harness.js';
import { connectedCall } from '../support/connected-call.js';
import { FakeMediaServer } from '../support/fake-media-server.js';
import { audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

t.test(
  'media leg with the codec in use: the relay is repointed, nobody is re-invited',
  async (t) => {
    const cc = await connectedCall(t);
    let aRequests = 0;
    cc.aDialog.on('request', () => aRequests++);
    const server = new FakeMediaServer(['PCMU']);
    const leg = await cc.call.insertMedia(server);
    const session = cc.h.relay.sessions[0];
    t.same(
      server.requests[0]?.codecs.map((c) => c.name),
      ['PCMU'],
      'the codecs the caller negotiated',
    );
    t.equal(server.requests[0]?.codecs[0]?.dtmfPayloadType, 101);
    t.same(session?.remotes.b, leg.local, "the caller's media goes to the media leg");
    t.same((leg as { connectedTo?: unknown }).connectedTo, session?.side('b'));
    await cc.call.removeMedia();
    t.same(session?.remotes.b, { address: '198.51.100.2', rtpPort: 5000 }, 'back to B');
    t.ok(server.legs[0]?.released);
    await settle();
    t.equal(aRequests, 0, 'A was never re-invited');
  },
);

t.test(
  'media leg that needs another codec: exactly one re-INVITE of the caller, the callee moves on removal',
  async (t) => {
    const cc = await connectedCall(t);
    // B answers A's next offer with PCMU and PCMA, so A may send either (PCMU first, in use).
    const bOffers: string[] = [];
    cc.bDialog.onRequest('INVITE', (req) => {
      bOffers.push(req.request.body.toString());
      const formats = bOffers.length === 1 ? '0 8 101' : '8 101';
      req.accept({
        body: audioSdp({
          address: '198.51.100.2',
          port: 5000,
          formats,
          version: bOffers.length + 1,
          user: 'bob',
        }),
        contentType: SDP,
      });
    });
    const legA = cc.call.leg('a');
    if (legA === undefined) throw new Error('no leg a');
    const acked = nextEvent(legA.dialog, 'ack');
    const reoffer = await cc.aDialog.reinvite({ body: audioSdp({ version: 2 }), contentType: SDP });
    t.equal(reoffer.status, 200);
    await acked;
    t.same(
      cc.call.media.negotiatedCodecs('a').map((c) => c.name),
      ['PCMU', 'PCMA'],
    );
    const aOffers: string[] = [];
    cc.aDialog.onRequest('INVITE', (req) => {
      aOffers.push(req.request.body.toString());
      req.accept({ body: audioSdp({ formats: '8 101', version: 3 }), contentType: SDP });
    });
    const server = new FakeMediaServer(['PCMA']);
    const leg = await cc.call.insertMedia(server);
    t.equal(leg.codec.name, 'PCMA');
    t.equal(aOffers.length, 1, 'one re-INVITE of the caller');
    t.equal(parse(aOffers[0] ?? '').media[0]?.payloads, '8 101', 'narrowed to the media leg codec');
    t.same(cc.h.relay.sessions[0]?.remotes.b, leg.local);
    await cc.call.removeMedia();
    await until(() => bOffers.length === 2);
    t.equal(
      parse(bOffers[1] ?? '').media[0]?.payloads,
      '8 101',
      'B is moved to the codec A now speaks',
    );
    await settle();
    t.equal(aOffers.length, 1, 'the caller is not re-invited again');
  },
);

t.test('insertMedia before the answer is refused', async (t) => {
  const cc = await connectedCall(t);
  await cc.aDialog.bye();
  await t.rejects(cc.call.insertMedia(new FakeMediaServer()), { code: 'B2BUA_ERR_STATE' });
});
