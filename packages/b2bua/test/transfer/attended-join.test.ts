import t from 'tap';
import type { DialogSession, SipEndpoint } from '@switchboard/sip-stack';
import {
  b2buaHarness,
  drained,
  nextEvent,
  party,
  settle,
  until,
  uriOf,
  type Harness,
  type Teardown,
} from '../support/call-harness.js';
import { OFFER_A, audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';
const ANSWER_B = audioSdp({ address: '198.51.100.2', port: 5000, formats: '0 101', user: 'bob' });
const ANSWER_C = audioSdp({ address: '198.51.100.7', port: 6000, formats: '0 101', user: 'carol' });

interface TwoCalls {
  h: Harness;
  a: SipEndpoint;
  /** A's dialogs with the B2BUA: to B (call 1) and to C (call 2). */
  a1: DialogSession;
  a2: DialogSession;
  bDialog: DialogSession;
  cDialog: DialogSession;
  /** Requests B and C received after their call was set up, and INVITEs C got in all. */
  seen: { b: string[]; c: string[]; cInvites: number };
}

/** A calls B and then C, both through the B2BUA (the usual set-up of an attended transfer). */
async function twoCalls(tt: Teardown, answerC = ANSWER_C): Promise<TwoCalls> {
  const a = await party(tt);
  const b = await party(tt);
  const c = await party(tt);
  const seen = { b: [] as string[], c: [] as string[], cInvites: 0 };
  const answer = (ep: SipEndpoint, body: string, log: string[]): Promise<DialogSession> =>
    new Promise((resolve) =>
      ep.onRequest('INVITE', (req) => {
        if (ep === c) seen.cInvites++;
        const dialog = req.accept({ body, contentType: SDP });
        dialog.on('request', (r) => log.push(r.method));
        resolve(dialog);
      }),
    );
  const bDialogP = answer(b, ANSWER_B, seen.b);
  const cDialogP = answer(c, answerC, seen.c);
  const h = await b2buaHarness(tt, {
    plan: (uri) => ({
      targets: [{ uri: uri.includes('carol') ? uriOf(c, 'carol') : uriOf(b, 'bob') }],
    }),
  });
  const call1 = await a.invite({ uri: h.uri, body: OFFER_A, contentType: SDP });
  const call2 = await a.invite({
    uri: h.uri.replace('b2bua@', 'carol@'),
    body: OFFER_A,
    contentType: SDP,
  });
  await until(() => h.calls.length === 2 && h.calls.every((x) => x.state === 'answered'));
  return {
    h,
    a,
    a1: call1.dialog,
    a2: call2.dialog,
    bDialog: await bDialogP,
    cDialog: await cDialogP,
    seen,
  };
}

/** A's NOTIFYs on dialog `d`: sipfrag bodies and Subscription-State. */
function notifications(d: DialogSession): { body: string; state: string }[] {
  const out: { body: string; state: string }[] = [];
  d.onRequest('NOTIFY', (req) => {
    out.push({
      body: req.request.body.toString(),
      state: req.request.headers.get('Subscription-State') ?? '',
    });
    req.respond(200);
  });
  return out;
}

/** Refer-To naming C with a Replaces for A's dialog with us in call 2 (RFC 3891 §6.1, from our side). */
function referTo(cc: TwoCalls, earlyOnly = false): string {
  const id = cc.a2.dialog.id;
  const replaces = `${id.callId};to-tag=${id.remoteTag};from-tag=${id.localTag}${earlyOnly ? ';early-only' : ''}`;
  return `<sip:carol@example.test?Replaces=${encodeURIComponent(replaces)}>`;
}

t.test(
  'attended transfer between two of our calls: B and C are joined on their relay ports, no INVITE, A gets BYE twice',
  async (t) => {
    const cc = await twoCalls(t);
    const [call1, call2] = cc.h.calls;
    const [s1, s2] = cc.h.relay.sessions;
    const notified = notifications(cc.a1);
    if (call1 === undefined || call2 === undefined) throw new Error('two calls expected');
    const transferred = nextEvent(call1, 'transferred');
    const res = await cc.a1.request('REFER', { headers: { 'Refer-To': referTo(cc) } });
    t.equal(res.status, 202);
    t.match((await transferred)[0], { side: 'a', status: 200, joined: true });
    t.equal(await cc.a1.terminated, 'remote-bye', "A's leg of call 1 was hung up");
    t.equal(await cc.a2.terminated, 'remote-bye', "A's leg of call 2 was hung up");
    await until(() => notified.some((n) => n.state.startsWith('terminated')));
    t.equal(notified[0]?.body, 'SIP/2.0 100 Trying\r\n');
    t.match(notified.at(-1), { body: 'SIP/2.0 200 OK\r\n', state: /^terminated/ });
    t.match(call2.end, { reason: 'replaced' });
    t.equal(call1.state, 'answered');
    t.equal(call1.leg('a')?.callId, cc.cDialog.callId, "C's dialog is now call 1's leg a");
    t.equal(call2.leg('b'), undefined, 'call 2 gave its leg away');
    // The relay sessions are spliced: their inner sides send to each other, the outer sides are unchanged.
    t.same(s1?.remotes.a, {
      address: s2?.side('a').address,
      rtpPort: s2?.side('a').rtpPort,
      rtcpPort: s2?.side('a').rtcpPort,
    });
    t.same(s2?.remotes.a, {
      address: s1?.side('a').address,
      rtpPort: s1?.side('a').rtpPort,
      rtcpPort: s1?.side('a').rtcpPort,
    });
    t.same(s1?.remotes.b, { address: '198.51.100.2', rtpPort: 5000 });
    t.same(s2?.remotes.b, { address: '198.51.100.7', rtpPort: 6000 });
    t.same(cc.h.b2bua.stats(), { active: 1, started: 2, ended: 1, relaySessions: 2 });
    // INFO from C reaches B: C's dialog now belongs to call 1.
    const info = new Promise<string>((resolve) =>
      cc.bDialog.onRequest('INFO', (req) => {
        resolve(req.request.body.toString());
        req.respond(200);
      }),
    );
    const relayed = await cc.cDialog.request('INFO', {
      body: 'Signal=7\r\n',
      contentType: 'application/dtmf-relay',
    });
    t.equal(relayed.status, 200);
    t.equal(await info, 'Signal=7\r\n');
    await settle();
    t.same(cc.seen.b, ['INFO'], 'B got no re-INVITE, only the INFO');
    t.same(cc.seen.c, [], 'C received no request (no re-INVITE)');
    t.equal(cc.seen.cInvites, 1, 'C got no new INVITE');
    const cBye = nextEvent(cc.cDialog, 'bye');
    await cc.bDialog.bye();
    await cBye;
    await drained(t, cc.h);
  },
);

t.test(
  'attended transfer between calls whose parties use different codecs: NOTIFY 488, both calls unchanged',
  async (t) => {
    const cc = await twoCalls(
      t,
      audioSdp({ address: '198.51.100.7', port: 6000, formats: '8 101', user: 'carol' }),
    );
    const notified = notifications(cc.a1);
    const res = await cc.a1.request('REFER', { headers: { 'Refer-To': referTo(cc) } });
    t.equal(res.status, 202);
    await until(() => notified.some((n) => n.state.startsWith('terminated')));
    t.match(notified.at(-1), { body: 'SIP/2.0 488 Not Acceptable Here\r\n' });
    t.same(
      cc.h.calls.map((c) => c.state),
      ['answered', 'answered'],
    );
    t.equal(cc.h.relay.sessions[0]?.remotes.a?.address, '192.0.2.1', 'call 1 still relays to A');
    await cc.a1.bye();
    await cc.a2.bye();
    await drained(t, cc.h);
  },
);

t.test(
  'attended transfer with early-only naming an answered call: NOTIFY 486 (RFC 3891 §3)',
  async (t) => {
    const cc = await twoCalls(t);
    const notified = notifications(cc.a1);
    t.equal(
      (await cc.a1.request('REFER', { headers: { 'Refer-To': referTo(cc, true) } })).status,
      202,
    );
    await until(() => notified.some((n) => n.state.startsWith('terminated')));
    t.match(notified.at(-1), { body: 'SIP/2.0 486 Busy Here\r\n' });
    await cc.a1.bye();
    await cc.a2.bye();
    await drained(t, cc.h);
  },
);

t.test(
  'a Replaces naming the call the REFER came in on gets 400; a malformed one too',
  async (t) => {
    const cc = await twoCalls(t);
    const id = cc.a1.dialog.id;
    const own = encodeURIComponent(`${id.callId};to-tag=${id.remoteTag};from-tag=${id.localTag}`);
    const self = await cc.a1.request('REFER', {
      headers: { 'Refer-To': `<sip:x@example.test?Replaces=${own}>` },
    });
    t.equal(self.status, 400);
    const bad = await cc.a1.request('REFER', {
      headers: { 'Refer-To': '<sip:x@example.test?Replaces=only-a-call-id>' },
    });
    t.equal(bad.status, 400);
    t.same(
      cc.h.calls.map((c) => c.state),
      ['answered', 'answered'],
    );
    await cc.a1.bye();
    await cc.a2.bye();
    await drained(t, cc.h);
  },
);
