import t from 'tap';
import { EndpointError, type IncomingRequest, type SipEndpoint } from '@switchboard/sip-stack';
import { must } from '../support/test-store.js';
import {
  addRoute,
  addTrunk,
  deviceUa,
  fakeGateway,
  registerUa,
  sdp,
  startTrunkEdge,
  until,
  type TrunkEdge,
} from './support/trunk-fixture.js';

type Phone = 'answer' | 'busy' | 'decline' | 'ring';

interface Device {
  ua: SipEndpoint;
  invites: IncomingRequest[];
  cancels: number;
}

/** A registered device of the PBX fixture that answers INVITEs the given way. */
async function device(
  t: Parameters<typeof startTrunkEdge>[0],
  edge: TrunkEdge,
  auth: string,
  phone: Phone,
): Promise<Device> {
  const ua = await deviceUa(t, edge, auth);
  const d: Device = { ua, invites: [], cancels: 0 };
  ua.on('cancel', () => d.cancels++);
  ua.onRequest('INVITE', (req) => {
    d.invites.push(req);
    if (phone === 'answer') req.accept({ body: sdp(42000), contentType: 'application/sdp' });
    else if (phone === 'busy') req.respond(486);
    else if (phone === 'decline') req.respond(603);
    else req.progress(180);
  });
  if ((await registerUa(edge, ua, auth)) !== 200) throw new Error(`${auth} did not register`);
  return d;
}

async function setUser(edge: TrunkEdge, userId: string, patch: Record<string, unknown>) {
  must(await edge.ts.store.table('sip_user').update(userId, patch));
}

async function status(p: PromiseLike<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (err) {
    return err instanceof EndpointError ? err.status : undefined;
  }
}

function call(edge: TrunkEdge, from: SipEndpoint, to: string) {
  return from.invite({
    uri: `sip:${to}@${edge.pbx.domain}`,
    route: edge.route,
    body: sdp(4000),
    contentType: 'application/sdp',
    timeoutMs: 20_000,
  });
}

t.test('proxy path: busy forwards to the user set for busy', async (t) => {
  const edge = await startTrunkEdge(t);
  await setUser(edge, edge.pbx.users.bob, {
    fwd_busy_dest_kind: 'user',
    fwd_busy_dest_id: edge.pbx.users.carol,
  });
  const alice = await deviceUa(t, edge, 'alice');
  const bob = await device(t, edge, 'bob', 'busy');
  const carol = await device(t, edge, 'carol', 'answer');
  const answered = await call(edge, alice, 'bob');
  t.equal(answered.response.status, 200, 'carol answers the call bob was busy for');
  t.equal(bob.invites.length, 1);
  t.equal(carol.invites.length, 1);
  await answered.dialog.bye();
  await until(() => edge.calls.size === 0, 'the call to end');
});

t.test('proxy path: a 603 Decline counts as busy and forwards too', async (t) => {
  const edge = await startTrunkEdge(t);
  await setUser(edge, edge.pbx.users.bob, {
    fwd_busy_dest_kind: 'user',
    fwd_busy_dest_id: edge.pbx.users.carol,
  });
  const alice = await deviceUa(t, edge, 'alice');
  await device(t, edge, 'bob', 'decline');
  const carol = await device(t, edge, 'carol', 'answer');
  const answered = await call(edge, alice, 'bob');
  t.equal(answered.response.status, 200);
  t.equal(carol.invites.length, 1);
  await answered.dialog.bye();
});

t.test('proxy path: busy with no continuation is relayed as 486', async (t) => {
  const edge = await startTrunkEdge(t);
  const alice = await deviceUa(t, edge, 'alice');
  await device(t, edge, 'dave', 'busy');
  t.equal(await status(call(edge, alice, 'dave')), 486);
});

t.test(
  'proxy path: a busy device beside a stale binding that never answers: the caller gets 486',
  async (t) => {
    const edge = await startTrunkEdge(t);
    await setUser(edge, edge.pbx.users.dave, { ring_timeout_sec: 20 });
    const alice = await deviceUa(t, edge, 'alice');
    // A device that registered and went away without unregistering (its port is closed now).
    const gone = await deviceUa(t, edge, 'dave');
    t.equal(await registerUa(edge, gone, 'dave'), 200, 'the stale device registered');
    await gone.close();
    const dave = await device(t, edge, 'dave', 'busy');
    const pending = status(call(edge, alice, 'dave'));
    await until(() => dave.invites.length === 1, 'the live device to get the INVITE');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The ring time passes with the stale branch silent: nobody rang, one device is busy.
    edge.clock.advance(20_000);
    t.equal(await pending, 486, 'busy, not 480: the stale binding never rang');
  },
);

t.test(
  'proxy path: no answer within the ring timeout forwards to a number over a trunk',
  async (t) => {
    const edge = await startTrunkEdge(t);
    const gw = await fakeGateway(t, 'answer');
    await addRoute(edge, '33', [await addTrunk(edge, gw.port)]);
    await setUser(edge, edge.pbx.users.bob, {
      ring_timeout_sec: 20,
      fwd_noanswer_dest_kind: 'forward',
      fwd_noanswer_dest_id: '33123456789',
    });
    const alice = await deviceUa(t, edge, 'alice');
    const bob = await device(t, edge, 'bob', 'ring');
    const pending = call(edge, alice, 'bob');
    await until(() => bob.invites.length === 1, 'bob to ring');
    await new Promise((resolve) => setTimeout(resolve, 50));
    edge.clock.advance(19_999);
    await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(bob.cancels, 0, 'bob rings until the ring timeout');
    edge.clock.advance(1);
    const answered = await pending;
    t.equal(answered.response.status, 200, 'the forward over the trunk answers');
    t.equal(bob.cancels, 1, 'bob was cancelled at the ring timeout');
    t.equal(gw.invites[0]?.uri, `sip:33123456789@127.0.0.1:${gw.port};transport=udp`);
    await answered.dialog.bye();
  },
);

t.test('proxy path: a voicemail continuation needs the B2BUA: the caller gets 480', async (t) => {
  const edge = await startTrunkEdge(t);
  await setUser(edge, edge.pbx.users.alice, { ring_timeout_sec: 10 });
  const bob = await deviceUa(t, edge, 'bob');
  const alice = await device(t, edge, 'alice', 'ring');
  const pending = call(edge, bob, 'alice');
  await until(() => alice.invites.length === 1, 'alice to ring');
  await new Promise((resolve) => setTimeout(resolve, 50));
  edge.clock.advance(10_000);
  t.equal(await status(pending), 480);
  t.equal(alice.cancels, 1);
});

t.test(
  'proxy path: a ring timeout with no continuation answers 480, not the 487 of our CANCEL',
  async (t) => {
    const edge = await startTrunkEdge(t);
    await setUser(edge, edge.pbx.users.dave, { ring_timeout_sec: 5 });
    const alice = await deviceUa(t, edge, 'alice');
    const dave = await device(t, edge, 'dave', 'ring');
    const pending = call(edge, alice, 'dave');
    await until(() => dave.invites.length === 1, 'dave to ring');
    await new Promise((resolve) => setTimeout(resolve, 50));
    edge.clock.advance(5000);
    t.equal(await status(pending), 480);
  },
);

t.test('proxy path: nobody registered follows the no-answer forward', async (t) => {
  const edge = await startTrunkEdge(t);
  await setUser(edge, edge.pbx.users.bob, {
    fwd_noanswer_dest_kind: 'user',
    fwd_noanswer_dest_id: edge.pbx.users.carol,
  });
  const alice = await deviceUa(t, edge, 'alice');
  const carol = await device(t, edge, 'carol', 'answer');
  const answered = await call(edge, alice, 'bob');
  t.equal(answered.response.status, 200);
  t.equal(carol.invites.length, 1);
  await answered.dialog.bye();
});
