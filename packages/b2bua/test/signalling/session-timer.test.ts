import t from 'tap';
import { ManualClock } from '@switchboard/sip-stack';
import type { IncomingRequest } from '@switchboard/sip-stack';
import { glareDelay, withGlareRetry } from '../../src/signalling/glare-retry.js';
import {
  b2buaHarness,
  failure,
  nextEvent,
  party,
  settle,
  until,
  uriOf,
} from '../support/call-harness.js';
import { connectedCall } from '../support/connected-call.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

t.test(
  'session timer: A asks to refresh and never does; before expiry both legs get BYE (RFC 4028 §10)',
  async (t) => {
    const clock = new ManualClock();
    const c = await connectedCall(t, {
      clock,
      plan: { sessionTimer: { interval: 90 } },
      inviteHeaders: { Supported: 'timer', 'Session-Expires': '90;refresher=uac' },
    });
    const ok = c.aDialog.dialog; // the 200 headers are checked through the timer settings
    t.ok(ok);
    t.same(c.call.timer('a')?.settings, { interval: 90, refresher: 'remote' });
    t.equal(c.call.timer('b'), undefined, 'B did not negotiate a timer');
    clock.advance(59_000);
    await settle();
    t.equal(c.call.state, 'answered', 'not yet: BYE goes min(32 s, 90/3 s) = 30 s before expiry');
    clock.advance(1_000);
    t.equal(await c.aDialog.terminated, 'remote-bye');
    t.equal(await c.bDialog.terminated, 'remote-bye');
    t.match(c.call.end, { reason: 'session-expired', side: 'a' });
    await until(() => c.h.relay.openSessions === 0);
  },
);

t.test('session timer: a refresh from A restarts the interval', async (t) => {
  const clock = new ManualClock();
  const c = await connectedCall(t, {
    clock,
    plan: { sessionTimer: { interval: 90 } },
    inviteHeaders: { Supported: 'timer', 'Session-Expires': '90;refresher=uac' },
  });
  clock.advance(50_000);
  const legA = c.call.leg('a');
  if (legA === undefined) throw new Error('no leg a');
  const acked = nextEvent(legA.dialog, 'ack');
  const res = await c.aDialog.reinvite({
    body: OFFER_A,
    contentType: SDP,
    headers: { 'Session-Expires': '90;refresher=uac' },
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('Session-Expires'), /^90;refresher=uac/);
  await acked;
  clock.advance(50_000);
  await settle();
  t.equal(c.call.state, 'answered', '100 s after the start, 50 s after the refresh');
  clock.advance(10_000);
  t.equal(await c.aDialog.terminated, 'remote-bye');
});

t.test(
  'session timer: we refresh B at half the interval and retry after 491 on the §14.1 timer',
  async (t) => {
    const clock = new ManualClock();
    const c = await connectedCall(t, {
      clock,
      plan: { sessionTimer: { interval: 90 } },
      answerHeaders: { 'Session-Expires': '90;refresher=uac', Require: 'timer' },
      bSupported: ['timer'],
    });
    t.same(c.call.timer('b')?.settings, { interval: 90, refresher: 'local' });
    const bodies: string[] = [];
    c.bDialog.onRequest('INVITE', (req: IncomingRequest) => {
      bodies.push(req.request.body.toString());
      if (bodies.length === 1) req.respond(491);
      else
        req.accept({
          body: ANSWER_B,
          contentType: SDP,
          headers: { 'Session-Expires': '90;refresher=uac' },
        });
    });
    clock.advance(44_000);
    await settle();
    t.equal(bodies.length, 0, 'not before half the interval');
    clock.advance(1_000);
    await until(() => bodies.length === 1);
    await settle();
    t.equal(bodies[0], c.offerToB, 'the refresh repeats the offer B has');
    clock.advance(2_000);
    await settle();
    t.equal(bodies.length, 1, 'the Call-ID owner waits at least 2.1 s after 491');
    clock.advance(2_000);
    await until(() => bodies.length === 2);
    await settle();
    t.equal(c.call.state, 'answered');
    clock.advance(45_000);
    await until(() => bodies.length === 3);
    t.equal(c.call.state, 'answered', 'refreshed again at the next half interval');
  },
);

t.test(
  'session timer: a caller interval below our Min-SE gets 422 with Min-SE (RFC 4028 §8.1)',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, {
      plan: () => ({
        targets: [{ uri: uriOf(b, 'bob') }],
        sessionTimer: { interval: 1800, minSE: 300 },
      }),
    });
    const err = await failure(
      a.invite({
        uri: h.uri,
        body: OFFER_A,
        contentType: SDP,
        headers: { 'Session-Expires': '120' },
      }).completed,
    );
    t.equal(err.status, 422);
    t.equal(h.relay.sessions.length, 0);
  },
);

t.test('glare delays follow RFC 3261 §14.1', (t) => {
  t.equal(
    glareDelay(true, () => 0),
    2100,
  );
  t.equal(
    glareDelay(true, () => 0.9999),
    4000,
  );
  t.equal(
    glareDelay(false, () => 0),
    0,
  );
  t.equal(
    glareDelay(false, () => 0.9999),
    2000,
  );
  t.equal(glareDelay(false, () => 0.5) % 10, 0, 'in 10 ms units');
  t.end();
});

t.test('withGlareRetry sends again after 491 and stops at the attempt limit', async (t) => {
  const clock = new ManualClock();
  let sent = 0;
  const result = withGlareRetry(() => Promise.resolve({ status: sent++ < 5 ? 491 : 200 }), {
    clock,
    ownsCallId: false,
    attempts: 3,
    random: () => 0.5,
  });
  await settle(5);
  t.equal(sent, 1);
  clock.advance(1000);
  await settle(5);
  t.equal(sent, 2);
  clock.advance(1000);
  t.equal((await result).status, 491);
  t.equal(sent, 3);
});
