import t from 'tap';
import { parse } from 'sdp-transform';
import type { DialogSession, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import {
  nextEvent,
  party,
  settle,
  until,
  uriOf,
  type Teardown,
  drained,
} from '../support/call-harness.js';
import { connectedCall, type ConnectedCall } from '../support/connected-call.js';
import { audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';
const ANSWER_C = audioSdp({ address: '198.51.100.7', port: 6000, formats: '0 101', user: 'carol' });

interface Target {
  c: SipEndpoint;
  invite: Promise<IncomingRequest>;
  dialog: Promise<DialogSession>;
}

async function transferTarget(
  t: Teardown,
  answer: (req: IncomingRequest) => void,
): Promise<Target> {
  const c = await party(t);
  let resolveInvite!: (r: IncomingRequest) => void;
  let resolveDialog!: (d: DialogSession) => void;
  const invite = new Promise<IncomingRequest>((r) => (resolveInvite = r));
  const dialog = new Promise<DialogSession>((r) => (resolveDialog = r));
  c.onRequest('INVITE', (req) => {
    resolveInvite(req);
    answer(req);
  });
  c.on('dialog', (d) => resolveDialog(d));
  return { c, invite, dialog };
}

/** B's NOTIFYs: sipfrag bodies and Subscription-State, in order. */
function notifications(cc: ConnectedCall): { body: string; state: string }[] {
  const seen: { body: string; state: string }[] = [];
  cc.bDialog.onRequest('NOTIFY', (req) => {
    seen.push({
      body: req.request.body.toString(),
      state: req.request.headers.get('Subscription-State') ?? '',
    });
    req.respond(200);
  });
  return seen;
}

t.test(
  'blind transfer: B refers A to C; C takes B’s place on the same relay ports, A hears nothing',
  async (t) => {
    const cc = await connectedCall(t);
    const target = await transferTarget(t, (req) =>
      req.accept({ body: ANSWER_C, contentType: SDP }),
    );
    const notified = notifications(cc);
    let aRequests = 0;
    cc.aDialog.on('request', () => aRequests++);
    const transferred = nextEvent(cc.call, 'transferred');
    const res = await cc.bDialog.request('REFER', {
      headers: {
        'Refer-To': `<${uriOf(target.c, 'carol')}>`,
        'Referred-By': '<sip:bob@example.test>',
      },
    });
    t.equal(res.status, 202);
    const [event] = await transferred;
    t.match(event, { side: 'b', status: 200 });
    const invite = await target.invite;
    t.equal(invite.request.headers.get('Referred-By'), '<sip:bob@example.test>');
    t.equal(invite.request.from.uri, cc.aDialog.dialog.localUri, "C sees A's identity");
    const offer = parse(invite.request.body.toString());
    const toB = parse(cc.offerToB);
    t.equal(offer.media[0]?.port, toB.media[0]?.port, 'same relay port as B had');
    t.not(
      String(offer.origin?.sessionId),
      String(toB.origin?.sessionId),
      'a new SDP session for C',
    );
    await until(() => notified.length >= 2 && cc.bDialog.state === 'terminated');
    t.equal(notified[0]?.body, 'SIP/2.0 100 Trying\r\n');
    t.match(notified.at(-1), { body: 'SIP/2.0 200 OK\r\n', state: /^terminated/ });
    t.equal(await cc.bDialog.terminated, 'remote-bye', 'the transferor was hung up');
    const cDialog = await target.dialog;
    t.equal(cc.call.leg('b')?.dialog.callId, cDialog.callId);
    t.same(cc.h.relay.sessions[0]?.remotes.b, { address: '198.51.100.7', rtpPort: 6000 });
    t.equal(cc.h.relay.sessions.length, 1);
    await settle();
    t.equal(aRequests, 0, 'no re-INVITE for A: its media stays anchored');
    t.equal(cc.call.state, 'answered');
    const cBye = nextEvent(cDialog, 'bye');
    await cc.aDialog.bye();
    await cBye;
    await drained(t, cc.h);
  },
);

t.test('blind transfer to a busy target: NOTIFY 486, B keeps the call and its media', async (t) => {
  const cc = await connectedCall(t);
  const target = await transferTarget(t, (req) => req.reject(486));
  const notified = notifications(cc);
  const res = await cc.bDialog.request('REFER', {
    headers: { 'Refer-To': `<${uriOf(target.c, 'carol')}>` },
  });
  t.equal(res.status, 202);
  await until(() => notified.some((n) => n.state.startsWith('terminated')));
  t.match(notified.at(-1), { body: 'SIP/2.0 486 Busy Here\r\n' });
  t.equal(cc.call.leg('b')?.callId, cc.bDialog.callId, 'B is still the B leg');
  t.equal(cc.call.state, 'answered');
  t.same(cc.h.relay.sessions[0]?.remotes.b, { address: '198.51.100.2', rtpPort: 5000 });
  const again = await cc.bDialog.reinvite({
    body: audioSdp({
      address: '198.51.100.2',
      port: 5000,
      formats: '0 101',
      version: 2,
      user: 'bob',
    }),
    contentType: SDP,
  });
  t.equal(again.status, 200, 'offer/answer still works after the failed transfer');
});

t.test(
  'the transferor hangs up right after 202: the transfer still connects A and C',
  async (t) => {
    const cc = await connectedCall(t);
    const target = await transferTarget(t, (req) => {
      setTimeout(() => req.accept({ body: ANSWER_C, contentType: SDP }), 30);
    });
    notifications(cc);
    const transferred = nextEvent(cc.call, 'transferred');
    const res = await cc.bDialog.request('REFER', {
      headers: { 'Refer-To': `<${uriOf(target.c, 'carol')}>` },
    });
    t.equal(res.status, 202);
    await cc.bDialog.bye();
    t.equal(cc.call.state, 'answered', 'B leaving does not end the call');
    await transferred;
    t.equal(cc.call.state, 'answered');
    const cDialog = await target.dialog;
    t.equal(cc.call.leg('b')?.dialog.callId, cDialog.callId);
    await cc.aDialog.bye();
    t.equal(await cDialog.terminated, 'remote-bye');
  },
);

t.test(
  'attended transfer: a Refer-To with Replaces sends the Replaces header to the target (RFC 3891)',
  async (t) => {
    const cc = await connectedCall(t);
    const target = await transferTarget(t, (req) =>
      req.accept({ body: ANSWER_C, contentType: SDP }),
    );
    notifications(cc);
    const replaces = encodeURIComponent('call-77@host;to-tag=t1;from-tag=f1');
    const res = await cc.bDialog.request('REFER', {
      headers: { 'Refer-To': `<${uriOf(target.c, 'carol')}?Replaces=${replaces}>` },
    });
    t.equal(res.status, 202);
    const invite = await target.invite;
    t.equal(invite.request.headers.get('Replaces'), 'call-77@host;to-tag=t1;from-tag=f1');
    t.notOk(invite.request.uri.includes('?'), 'URI headers are not in the Request-URI');
  },
);

t.test('a REFER without a usable Refer-To gets 400', async (t) => {
  const cc = await connectedCall(t);
  const res = await cc.bDialog.request('REFER', { headers: { 'Refer-To': 'not a uri <' } });
  t.equal(res.status, 400);
  const none = await cc.bDialog.request('REFER');
  t.equal(none.status, 400);
  t.equal(cc.call.state, 'answered');
});

t.test(
  'a transfer policy refuses a REFER with its status: no INVITE leaves, the call goes on',
  async (t) => {
    const asked: string[] = [];
    const cc = await connectedCall(t, {
      plan: {
        transfer: (r) => {
          asked.push(`${r.side} ${r.uri}`);
          return { allow: false, status: 403 };
        },
      },
    });
    const target = await transferTarget(t, (req) =>
      req.accept({ body: ANSWER_C, contentType: SDP }),
    );
    let invited = false;
    void target.invite.then(() => (invited = true));
    const res = await cc.bDialog.request('REFER', {
      headers: { 'Refer-To': `<${uriOf(target.c, 'carol')}>` },
    });
    t.equal(res.status, 403, 'the REFER is refused');
    t.same(asked, [`b ${uriOf(target.c, 'carol')}`], 'the policy saw the side and the target');
    await settle();
    t.notOk(invited, 'the target was never called');
    t.equal(cc.call.state, 'answered', 'A and B stay connected');
    await cc.aDialog.bye();
    await drained(t, cc.h);
  },
);

t.test('a transfer policy may send the new leg somewhere else (the routed target)', async (t) => {
  const routed = await transferTarget(t, (req) => req.accept({ body: ANSWER_C, contentType: SDP }));
  const cc = await connectedCall(t, {
    plan: { transfer: () => Promise.resolve({ allow: true, uri: uriOf(routed.c, 'routed') }) },
  });
  const transferred = nextEvent(cc.call, 'transferred');
  const res = await cc.bDialog.request('REFER', {
    headers: { 'Refer-To': '<sip:anywhere@198.51.100.99>' },
  });
  t.equal(res.status, 202);
  const invite = await routed.invite;
  t.equal(invite.request.uri, uriOf(routed.c, 'routed'), 'the INVITE goes where the policy said');
  const [event] = await transferred;
  t.match(event, { side: 'b', status: 200, target: uriOf(routed.c, 'routed') });
  const cDialog = await routed.dialog;
  const cBye = nextEvent(cDialog, 'bye');
  await cc.aDialog.bye();
  await cBye;
  await drained(t, cc.h);
});
