import t from 'tap';
import { parse } from 'sdp-transform';
import type { DialogSession, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import {
  b2buaHarness,
  failure,
  nextEvent,
  party,
  until,
  uriOf,
  drained,
} from '../support/call-harness.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

/** B rings, then answers with ANSWER_B; resolves with B's INVITE and dialog after the ACK. */
function answering(
  b: SipEndpoint,
  delayMs = 10,
): Promise<{ request: IncomingRequest; dialog: DialogSession }> {
  return new Promise((resolve) => {
    b.onRequest('INVITE', (req) => {
      req.progress(180);
      setTimeout(() => {
        const dialog = req.accept({ body: ANSWER_B, contentType: 'application/sdp' });
        dialog.once('ack', () => resolve({ request: req, dialog }));
      }, delayMs);
    });
  });
}

t.test(
  'basic call: A → B2BUA → B, each leg its own dialog, SDP through the relay, BYE from A',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    const answered = answering(b);
    const provisional: number[] = [];
    const invite = a.invite({
      uri: h.uri,
      from: '"Alice" <sip:alice@192.0.2.1>',
      body: OFFER_A,
      contentType: 'application/sdp',
      onProvisional: (r) => provisional.push(r.status),
    });
    const { dialog: aDialog, response } = await invite;
    const { request: bInvite, dialog: bDialog } = await answered;
    const call = h.calls[0];
    t.ok(call);
    t.same(provisional, [180], 'the ringing reached A');
    t.equal(response.status, 200);
    t.equal(call?.state, 'answered');

    // Topology: nothing of leg A on leg B.
    const aInvite = invite.request;
    t.not(bInvite.request.callId, aInvite.callId, 'own Call-ID');
    t.not(bInvite.request.fromTag, aInvite.fromTag, 'own From tag');
    t.equal(bInvite.request.via.length, 1, 'only our Via');
    t.notOk(bInvite.request.headers.has('Record-Route'));
    t.match(
      bInvite.request.contacts[0]?.uri,
      new RegExp(`:${h.endpoint.listeningPoints()[0]?.local.port}`),
    );
    t.equal(bInvite.request.from.displayName, 'Alice', 'caller identity kept');
    t.equal(bInvite.request.maxForwards, 69, "Max-Forwards is the caller's minus one");
    t.equal(response.via.length, 1);
    t.match(
      response.contacts[0]?.uri,
      new RegExp(`:${h.endpoint.listeningPoints()[0]?.local.port}`),
      "A sees our Contact, not B's",
    );

    // SDP rewritten both ways.
    const toB = parse(bInvite.request.body.toString());
    const toA = parse(response.body.toString());
    const session = h.relay.sessions[0];
    t.equal(toB.connection?.ip, h.relay.address);
    t.equal(toB.media[0]?.port, session?.side('b').rtpPort);
    t.equal(toA.connection?.ip, h.relay.address);
    t.equal(toA.media[0]?.port, session?.side('a').rtpPort);
    t.same(session?.remotes, {
      a: { address: '192.0.2.1', rtpPort: 4000 },
      b: { address: '198.51.100.2', rtpPort: 5000 },
    });
    t.equal(h.b2bua.stats().relaySessions, 1);

    const bBye = nextEvent(bDialog, 'bye');
    const res = await aDialog.bye();
    t.equal(res.status, 200);
    await bBye;
    t.match(await call?.ended, { reason: 'hangup', side: 'a' });
    await drained(t, h);
    t.equal(h.b2bua.stats().active, 0);
  },
);

t.test('the callee hangs up: A gets BYE and the relay session is released', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  const answered = answering(b);
  const { dialog: aDialog } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: 'application/sdp',
  });
  const { dialog: bDialog } = await answered;
  const aBye = nextEvent(aDialog, 'bye');
  await bDialog.bye();
  await aBye;
  t.equal(await aDialog.terminated, 'remote-bye');
  t.match(h.calls[0]?.end, { reason: 'hangup', side: 'b' });
  await drained(t, h);
});

t.test('busy: the callee’s 486 reaches the caller and nothing leaks', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  b.onRequest('INVITE', (req) => {
    req.progress(180);
    req.reject(486);
  });
  t.match(
    await failure(
      a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
    ),
    { status: 486 },
  );
  t.match(h.calls[0]?.end, { reason: 'rejected', status: 486 });
  t.equal(h.relay.openSessions, 0);
  t.equal(h.b2bua.stats().active, 0);
});

t.test(
  'no answer: after the answer timeout the callee is cancelled and the caller gets 480',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, {
      plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }], answerTimeoutMs: 200 }),
    });
    const cancelled = new Promise<void>((resolve) => {
      b.onRequest('INVITE', (req) => {
        req.progress(180);
        req.on('cancel', () => resolve());
      });
    });
    t.match(
      await failure(
        a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
      ),
      { status: 480 },
    );
    await cancelled;
    t.match(h.calls[0]?.end, { reason: 'no-answer', status: 480 });
    t.equal(h.relay.openSessions, 0);
  },
);

t.test('the caller cancels while the callee rings: CANCEL crosses, both get 487', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  let bRequest: IncomingRequest | undefined;
  const bCancelled = new Promise<void>((resolve) => {
    b.onRequest('INVITE', (req) => {
      bRequest = req;
      req.progress(180);
      req.on('cancel', () => resolve());
    });
  });
  const invite = a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' });
  await nextEvent(invite, 'provisional');
  invite.cancel();
  await t.rejects(invite.completed, { code: 'SIP_ERR_CANCELLED' });
  await bCancelled;
  t.equal(bRequest?.finalResponse?.status, 487);
  t.match(h.calls[0]?.end, { reason: 'caller-cancelled', status: 487 });
  t.equal(h.relay.openSessions, 0);
});

t.test('forking: the first answer wins, the ringing fork is cancelled', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const c = await party(t);
  const h = await b2buaHarness(t, {
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }, { uri: uriOf(c, 'carol') }] }),
  });
  const bCancelled = new Promise<void>((resolve) => {
    b.onRequest('INVITE', (req) => {
      req.progress(180);
      req.on('cancel', () => resolve());
    });
  });
  const cAnswered = answering(c, 30);
  const { dialog: aDialog } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: 'application/sdp',
  });
  await bCancelled;
  const { dialog: cDialog } = await cAnswered;
  t.equal(h.calls[0]?.leg('b')?.dialog.callId, cDialog.callId, 'C is the B leg');
  const cBye = nextEvent(cDialog, 'bye');
  await aDialog.bye();
  await cBye;
  await drained(t, h);
});

t.test('forking: two forks answer at once; the second is acknowledged and hung up', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const c = await party(t);
  const h = await b2buaHarness(t, {
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }, { uri: uriOf(c, 'carol') }] }),
  });
  const dialogs: DialogSession[] = [];
  for (const ep of [b, c]) {
    ep.onRequest('INVITE', (req) => {
      dialogs.push(req.accept({ body: ANSWER_B, contentType: 'application/sdp' }));
    });
  }
  const { dialog: aDialog } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: 'application/sdp',
  });
  await until(() => dialogs.length === 2);
  const reasons = await Promise.race([
    Promise.all(dialogs.map((d) => d.terminated)),
    until(() => dialogs.filter((d) => d.state === 'terminated').length === 1).then(() => []),
  ]);
  t.same(reasons, [], 'exactly one fork was hung up while the call is up');
  const loser = dialogs.find((d) => d.state === 'terminated');
  t.equal(await loser?.terminated, 'remote-bye');
  await aDialog.bye();
  await until(() => dialogs.every((d) => d.state === 'terminated'));
  await drained(t, h);
});

t.test('early media: a 183 with SDP reaches the caller rewritten to the relay', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  b.onRequest('INVITE', (req) => {
    req.progress(183, { body: ANSWER_B, contentType: 'application/sdp' });
    setTimeout(() => req.accept({ body: ANSWER_B, contentType: 'application/sdp' }), 30);
  });
  const early: string[] = [];
  const { dialog } = await a.invite({
    uri: h.uri,
    body: OFFER_A,
    contentType: 'application/sdp',
    onProvisional: (r) => early.push(`${r.status} ${r.body.toString()}`),
  });
  t.equal(early.length, 1);
  t.match(early[0], /^183 /);
  const sdp = parse(early[0]?.slice(4) ?? '');
  t.equal(sdp.connection?.ip, h.relay.address);
  t.equal(sdp.media[0]?.port, h.relay.sessions[0]?.side('a').rtpPort);
  t.notOk(early[0]?.includes('198.51.100.2'));
  const states: string[] = [];
  h.calls[0]?.on('state', (s) => states.push(s));
  t.equal(h.calls[0]?.state, 'answered');
  await dialog.bye();
  await drained(t, h);
});
