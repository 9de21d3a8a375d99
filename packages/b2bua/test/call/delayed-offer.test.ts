import t from 'tap';
import { parse } from 'sdp-transform';
import type { DialogSession, SipEndpoint } from '@switchboard/sip-stack';
import type { CallPlan } from '../../src/call/call-types.js';
import {
  b2buaHarness,
  drained,
  party,
  until,
  uriOf,
  type Harness,
  type Teardown,
} from '../support/call-harness.js';
import { RawCaller } from '../support/raw-caller.js';
import { ANSWER_B, audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';
/** A's answer to our offer (B's codecs): PCMU and telephone-event. */
const ANSWER_A = audioSdp({ address: '192.0.2.1', port: 4000, formats: '0 101', user: 'alice' });

interface Setup {
  h: Harness;
  a: RawCaller;
  b: SipEndpoint;
  /** B's dialog and the offer B received. */
  bSide: Promise<{ dialog: DialogSession; offer: string }>;
}

async function setup(tt: Teardown, plan: Partial<CallPlan> = {}): Promise<Setup> {
  const b = await party(tt);
  const bSide = new Promise<{ dialog: DialogSession; offer: string }>((resolve) => {
    b.onRequest('INVITE', (req) => {
      const offer = req.request.body.toString();
      resolve({ dialog: req.accept({ body: ANSWER_B, contentType: SDP }), offer });
    });
  });
  const h = await b2buaHarness(tt, {
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }], ...plan }),
  });
  const port = h.endpoint.listeningPoints()[0]?.local.port ?? 0;
  const a = await RawCaller.open(tt, { uri: h.uri, port });
  return { h, a, b, bSide };
}

t.test(
  'delayed offer: B gets our offer, A gets an offer in the 200 and answers in its ACK (RFC 3264 §5)',
  async (t) => {
    const { h, a, bSide } = await setup(t);
    const ok = await a.call();
    const { dialog, offer } = await bSide;
    const session = h.relay.sessions[0];
    const toB = parse(offer);
    t.equal(toB.media[0]?.port, session?.side('b').rtpPort, 'B is offered the relay side-b port');
    t.equal(toB.connection?.ip, h.relay.address);
    t.equal(toB.media[0]?.payloads, '0 8 101', 'G.711 and telephone-event by default');
    const toA = parse(ok.body.toString());
    t.equal(toA.media[0]?.port, session?.side('a').rtpPort, "A's offer has the side-a port");
    t.equal(toA.media[0]?.payloads, '0 101', 'A is offered the codecs B chose');
    t.notOk(ok.body.toString().includes('198.51.100.2'), "nothing of B's address");
    t.same(session?.remotes.b, { address: '198.51.100.2', rtpPort: 5000 });
    t.equal(session?.remotes.a, undefined, 'A is unknown until its answer');
    a.ack(ANSWER_A);
    await until(() => session?.remotes.a !== undefined);
    t.same(session?.remotes.a, { address: '192.0.2.1', rtpPort: 4000 });
    t.equal(h.calls[0]?.state, 'answered');
    t.equal(h.calls[0]?.media.pendingFrom, undefined, 'the exchange is complete');
    const byeSeen = a.answerBye();
    await dialog.bye().catch(() => undefined);
    await byeSeen;
    await drained(t, h);
  },
);

for (const [name, ack] of [
  ['no answer in the ACK', ''],
  ['an answer that does not parse', 'v=0\r\nm=audio banana\r\n'],
  ['an answer with no offered codec', audioSdp({ formats: '8', port: 4000 })],
] as const) {
  t.test(`delayed offer: ${name} ends the call with BYE to both legs`, async (t) => {
    const { h, a, bSide } = await setup(t);
    await a.call();
    const { dialog } = await bSide;
    const byeA = a.answerBye();
    a.ack(ack);
    await byeA;
    t.equal(await dialog.terminated, 'remote-bye', 'B got BYE');
    t.match(h.calls[0]?.end, { reason: 'media-failed', side: 'a' });
    await drained(t, h);
  });
}

t.test('delayed offer toward a trunk that takes only G.729: B is offered G.729', async (t) => {
  const { h, a, bSide } = await setup(t, { policy: { codecs: { allow: ['G729'] } } });
  a.invite();
  const { dialog, offer } = await bSide;
  t.equal(parse(offer).media[0]?.payloads, '18 101');
  // B answers PCMU, which we never offered: B is hung up, A gets 488.
  const refused = await a.peer.response(488, 'INVITE');
  t.match(refused.headers.get('Warning'), /^305 /);
  t.equal(await dialog.terminated, 'remote-bye');
  await drained(t, h);
});

t.test('delayed offer on a trunk that takes no audio: 488 with Warning 304', async (t) => {
  const { h, a } = await setup(t, { policy: { codecs: { mediaTypes: ['video'] } } });
  a.invite();
  const refused = await a.peer.response(488, 'INVITE');
  t.match(refused.headers.get('Warning'), /^304 /);
  t.equal(h.relay.createdSessions, 0);
  await drained(t, h);
});
