import t, { type Test } from 'tap';
import { EndpointError, createEndpoint, type SipEndpoint } from '@switchboard/sip-stack';
import { fakeGateway, sdp, until, type FakeGateway } from '../edge/support/trunk-fixture.js';
import { gatewayFailure, isTrunkFailure } from '../../src/b2bua-bridge/trunk-failover.js';
import {
  DOMAIN,
  PASSWORD,
  TRUNK_PREFIX,
  startB2buaEdge,
  type B2buaEdge,
} from './support/b2bua-edge.js';
import { portRange } from './support/call-scene.js';

const NUMBER = `${TRUNK_PREFIX}2345678`;

async function edgeWith(t: Test, gateways: FakeGateway[]): Promise<B2buaEdge> {
  const edge = await startB2buaEdge({
    address: '127.0.0.1',
    trunks: gateways.map((g) => ({ host: '127.0.0.1', port: g.port })),
    rtpPorts: portRange(40),
  });
  t.teardown(() => edge.close());
  return edge;
}

async function alice(t: Test): Promise<SipEndpoint> {
  const ua = await createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    contactUser: 'alice',
    from: `<sip:alice@${DOMAIN}>`,
    credentials: { username: 'alice', password: PASSWORD },
  });
  t.teardown(() => ua.close());
  return ua;
}

function dial(edge: B2buaEdge, ua: SipEndpoint) {
  return ua.invite({
    uri: `sip:${NUMBER}@${DOMAIN}`,
    route: [`<sip:127.0.0.1:${edge.sipPort};lr>`],
    body: sdp(4000),
    contentType: 'application/sdp',
    timeoutMs: 20_000,
  });
}

async function failedWith(p: PromiseLike<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (err) {
    return err instanceof EndpointError ? err.status : undefined;
  }
}

/** Polls an async check (bounded: 2 s); the test's assertion tells whether it held. */
async function untilAsync(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100 && !(await check()); i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

const states = (edge: B2buaEdge) =>
  Object.fromEntries(edge.dispatcher.status().map((s) => [s.port, s.state]));

t.test(
  'failover rules: 408 and 5xx are gateway failures; busy, a refusal or no answer after ringing are not',
  (t) => {
    t.ok(isTrunkFailure(408));
    t.ok(isTrunkFailure(503));
    t.notOk(isTrunkFailure(486));
    t.notOk(isTrunkFailure(403));
    t.equal(gatewayFailure({ reason: 'rejected', status: 500 }, true), 'INVITE 500');
    t.equal(gatewayFailure({ reason: 'rejected', status: 486 }, false), undefined);
    t.equal(gatewayFailure({ reason: 'no-answer', status: 480 }, false), 'INVITE timeout');
    t.equal(gatewayFailure({ reason: 'no-answer', status: 480 }, true), undefined);
    t.equal(gatewayFailure({ reason: 'caller-cancelled', status: 487 }, false), undefined);
    t.end();
  },
);

t.test(
  'B2BUA failover: a trunk answering 503 is marked down and the call goes to the next trunk, admitted once',
  async (t) => {
    const bad = await fakeGateway(t, 'unavailable');
    const good = await fakeGateway(t, 'answer');
    const edge = await edgeWith(t, [bad, good]);
    const ua = await alice(t);

    const result = await dial(edge, ua);
    t.equal(result.response.status, 200, 'the caller is answered by the second trunk');
    t.equal(bad.invites.length, 1, 'the first trunk was tried');
    t.equal(good.invites.length, 1, 'then the second');
    t.not(good.invites[0]?.callId, result.response.callId, 'the trunk leg has its own Call-ID');
    t.same(states(edge), { [bad.port]: 'down', [good.port]: 'up' }, 'the failed gateway is down');
    const cac = await edge.brain.cacStatus();
    t.equal(cac.accounts[0]?.reservations, 1, 'admission counted once');
    t.equal(edge.calls.size, 1, 'one tracked call');

    await result.dialog.bye();
    await until(() => edge.calls.size === 0, 'the call to end');
    t.equal(edge.relay.info().sessions, 0, 'no relay session left');
    t.equal((await edge.brain.cacStatus()).accounts[0]?.reservations ?? 0, 0, 'admission released');
    const records = edge.store.store.records;
    await untilAsync(
      async () => (await records.cdrByCallId(result.response.callId))?.disposition === 'answered',
    );
    const cdr = await records.cdrByCallId(result.response.callId);
    t.equal(cdr?.disposition, 'answered', 'one CDR, answered');
  },
);

t.test(
  'B2BUA failover: a down gateway is skipped, and a busy trunk ends the search (486 reaches the caller)',
  async (t) => {
    const down = await fakeGateway(t, 'answer');
    const busy = await fakeGateway(t, 'busy');
    const spare = await fakeGateway(t, 'answer');
    const edge = await edgeWith(t, [down, busy, spare]);
    const gw = { host: '127.0.0.1', port: down.port, transport: 'udp' as const };
    edge.dispatcher.track(gw);
    edge.dispatcher.reportFailure(gw, 'test');
    const ua = await alice(t);

    t.equal(await failedWith(dial(edge, ua)), 486, 'the caller hears busy');
    t.equal(down.invites.length, 0, 'the down gateway was not tried');
    t.equal(busy.invites.length, 1, 'the busy trunk was');
    t.equal(spare.invites.length, 0, 'busy is not a gateway failure: no failover');
    t.equal(states(edge)[busy.port], 'up', 'busy does not mark the gateway down');
    await until(() => edge.calls.size === 0, 'the call to end');
    t.equal(edge.relay.info().sessions, 0, 'no relay session left');
  },
);

t.test(
  'B2BUA failover: when every trunk fails the caller gets the last failure and nothing leaks',
  async (t) => {
    const first = await fakeGateway(t, 'unavailable');
    const second = await fakeGateway(t, 'unavailable');
    const edge = await edgeWith(t, [first, second]);
    const ua = await alice(t);

    // RFC 3261 §16.7: a 503 of the far side reaches the caller as 500.
    t.equal(await failedWith(dial(edge, ua)), 500, 'the caller gets a server failure');
    t.equal(first.invites.length + second.invites.length, 2, 'both trunks were tried once');
    t.same(states(edge), { [first.port]: 'down', [second.port]: 'down' });
    await until(() => edge.calls.size === 0, 'the call to end');
    t.equal(edge.relay.info().sessions, 0, 'no relay session left');
    t.equal((await edge.brain.cacStatus()).accounts[0]?.reservations ?? 0, 0, 'admission released');

    t.equal(await failedWith(dial(edge, ua)), 503, 'with every gateway down, 503 at once');
    t.equal(first.invites.length + second.invites.length, 2, 'no trunk was tried');
  },
);
