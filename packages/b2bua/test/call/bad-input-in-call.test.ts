import t from 'tap';
import type { DialogSession, IncomingRequest } from '@switchboard/sip-stack';
import { b2buaHarness, drained, party, until, uriOf } from '../support/call-harness.js';
import { RawCaller } from '../support/raw-caller.js';
import { ANSWER_B, OFFER_A, audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

t.test(
  'a leg that offers again while its re-INVITE is pending gets 500 with Retry-After (RFC 3261 §14.2, RFC 3311 §5.2); the first completes',
  async (t) => {
    const b = await party(t);
    let held: IncomingRequest | undefined;
    const bDialog = new Promise<DialogSession>((resolve) =>
      b.onRequest('INVITE', (req) => {
        const d = req.accept({ body: ANSWER_B, contentType: SDP });
        d.onRequest('INVITE', (re) => void (held = re));
        resolve(d);
      }),
    );
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    const a = await RawCaller.open(t, {
      uri: h.uri,
      port: h.endpoint.listeningPoints()[0]?.local.port ?? 0,
    });
    await a.call(OFFER_A);
    a.ack();
    await until(() => h.calls[0]?.leg('b') !== undefined);
    const first = a.request('INVITE', audioSdp({ version: 2, port: 4002 }));
    await until(() => held !== undefined);
    const second = await a.final(
      'INVITE',
      a.request('INVITE', audioSdp({ version: 3, port: 4004 })),
    );
    t.equal(second.status, 500, 'a second re-INVITE in the same dialog');
    t.ok(second.headers.has('Retry-After'));
    const update = await a.final(
      'UPDATE',
      a.request('UPDATE', audioSdp({ version: 3, port: 4006 })),
    );
    t.equal(update.status, 500, 'an UPDATE offer over our own pending re-INVITE');
    t.match(update.headers.get('Retry-After'), /^\d+$/);
    held?.accept({
      body: audioSdp({
        address: '198.51.100.2',
        port: 5000,
        formats: '0 101',
        version: 2,
        user: 'bob',
      }),
      contentType: SDP,
    });
    const ok = await a.final('INVITE', first);
    t.equal(ok.status, 200, 'the first re-INVITE completes');
    a.ack('', first);
    t.same(h.relay.sessions[0]?.remotes.a, { address: '192.0.2.1', rtpPort: 4002 });
    t.equal(h.calls[0]?.state, 'answered');
    const byeA = a.answerBye();
    await (await bDialog).bye();
    await byeA;
    await drained(t, h);
  },
);

t.test(
  'a re-INVITE with no codec the trunk allows gets 488 with Warning 305; the call goes on',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    let reinvites = 0;
    b.onRequest('INVITE', (req) => {
      const d = req.accept({ body: ANSWER_B, contentType: SDP });
      d.onRequest('INVITE', (re) => {
        reinvites++;
        re.accept({ body: ANSWER_B, contentType: SDP });
      });
    });
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: uriOf(b, 'bob') }],
        policy: { codecs: { allow: ['PCMU'] } },
      }),
    });
    const { dialog } = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
    const res = await dialog.reinvite({
      body: audioSdp({ formats: '8 101', version: 2 }),
      contentType: SDP,
    });
    t.equal(res.status, 488);
    t.match(res.headers.get('Warning'), /^305 /);
    t.equal(reinvites, 0, 'B never saw the offer');
    t.equal(h.calls[0]?.state, 'answered');
    const again = await dialog.reinvite({
      body: audioSdp({ version: 3, port: 4010 }),
      contentType: SDP,
    });
    t.equal(again.status, 200, 'a usable offer afterwards works');
    await dialog.bye();
    await drained(t, h);
  },
);

t.test(
  'an offer with only a media type the trunk does not take gets 488 with Warning 304',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: uriOf(b, 'bob') }],
        policy: { codecs: { mediaTypes: ['audio'] } },
      }),
    });
    const video = OFFER_A.replace(
      'm=audio 4000 RTP/AVP 0 8 101',
      'm=video 4000 RTP/AVP 96\r\na=rtpmap:96 H264/90000',
    );
    const err = await a.invite({ uri: h.uri, body: video, contentType: SDP }).completed.then(
      () => undefined,
      (e: { status?: number; response?: { headers: { get(n: string): string | undefined } } }) => e,
    );
    t.equal(err?.status, 488);
    t.match(err?.response?.headers.get('Warning'), /^304 /);
    await drained(t, h);
  },
);
