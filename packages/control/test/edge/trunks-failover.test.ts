import t from 'tap';
import { EndpointError, type SipEndpoint } from '@switchboard/sip-stack';
import {
  addRoute,
  addTrunk,
  deviceUa,
  fakeGateway,
  sdp,
  silentGateway,
  startTrunkEdge,
  until,
  type TrunkEdge,
} from './support/trunk-fixture.js';

const NUMBER = '33123456789';

async function status(p: PromiseLike<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (err) {
    return err instanceof EndpointError ? err.status : undefined;
  }
}

function dial(edge: TrunkEdge, ua: SipEndpoint, number = NUMBER) {
  return ua.invite({
    uri: `sip:${number}@${edge.pbx.domain}`,
    route: edge.route,
    body: sdp(4000),
    contentType: 'application/sdp',
    timeoutMs: 20_000,
  });
}

t.test(
  'outbound: a call fails over from a 503 gateway and a silent one to the gateway that answers',
  async (t) => {
    const edge = await startTrunkEdge(t, { dispatcher: { failoverTimeoutMs: 4000 } });
    const busy = await fakeGateway(t, 'unavailable');
    const silent = await silentGateway(t);
    const good = await fakeGateway(t, 'answer');
    const ids = [
      await addTrunk(edge, busy.port),
      await addTrunk(edge, silent.port),
      await addTrunk(edge, good.port, {
        caller_id: '442071234567',
        custom_headers_json: { 'X-Account': 'acme', Via: 'SIP/2.0/UDP evil.test' },
      }),
    ];
    await addRoute(edge, '33', ids);
    const alice = await deviceUa(t, edge, 'alice');

    const call = dial(edge, alice);
    await until(() => silent.invites() > 0, 'the INVITE to the silent gateway');
    t.equal(busy.invites.length, 1, 'the first trunk was tried first');
    t.equal(good.invites.length, 0, 'the third trunk waits for the silent one to time out');
    edge.clock.advance(4000);
    const result = await call;
    t.equal(result.response.status, 200, 'the call is answered by the third trunk');

    const invite = good.invites[0];
    t.equal(invite?.uri, `sip:${NUMBER}@127.0.0.1:${good.port};transport=udp`);
    t.equal(invite?.from.uri, `sip:alice@${edge.pbx.domain}`, 'From is left as the caller sent it');
    t.equal(invite?.headers.get('P-Asserted-Identity'), '<sip:442071234567@127.0.0.1>');
    t.equal(invite?.headers.get('X-Account'), 'acme', 'the trunk custom header is added');
    t.notOk(
      invite?.headers.getAll('Via').some((v) => v.includes('evil.test')),
      'a custom header cannot replace Via',
    );
    t.notOk(invite?.headers.has('Proxy-Authorization'), 'our credentials stay with us');

    const states = Object.fromEntries(edge.trunks.status().map((s) => [s.port, s.state]));
    t.same(states, { [busy.port]: 'down', [silent.port]: 'down', [good.port]: 'up' });
    t.ok(edge.calls.get(invite?.callId ?? ''), 'the call is tracked while up');
    const cac = await edge.brain.cacStatus(edge.pbx.accountId);
    t.equal(cac.accounts[0]?.counters['acct:outbound']?.current, 1, 'admitted as outbound');

    await result.dialog.bye();
    await until(() => edge.calls.size === 0, 'the call to end');
    const after = await edge.brain.cacStatus(edge.pbx.accountId);
    t.equal(after.accounts[0]?.counters['acct:outbound']?.current ?? 0, 0, 'admission released');

    await t.test('the next call goes straight to the gateway that is up', async (t) => {
      const silentBefore = silent.invites();
      const second = await dial(edge, alice);
      t.equal(second.response.status, 200);
      t.equal(busy.invites.length, 1, 'the down 503 gateway is skipped');
      t.equal(silent.invites(), silentBefore, 'the down silent gateway is skipped');
      t.equal(good.invites.length, 2);
      await second.dialog.bye();
    });

    await t.test('with every trunk down the caller gets 503 with Retry-After', async (t) => {
      edge.trunks.reportFailure({ host: '127.0.0.1', port: good.port, transport: 'udp' }, 'test');
      const refused = dial(edge, alice);
      t.equal(await status(refused), 503);
      t.equal(good.invites.length, 2, 'nothing was sent');
      await until(() => edge.calls.size === 0, 'the refused call to end');
    });
  },
);

t.test('outbound: a busy carrier is relayed, not failed over', async (t) => {
  const edge = await startTrunkEdge(t);
  const busy = await fakeGateway(t, 'busy');
  const good = await fakeGateway(t, 'answer');
  await addRoute(edge, '33', [await addTrunk(edge, busy.port), await addTrunk(edge, good.port)]);
  const alice = await deviceUa(t, edge, 'alice');
  t.equal(await status(dial(edge, alice)), 486);
  t.equal(good.invites.length, 0, 'the second trunk is not tried on 486');
  t.same(
    edge.trunks.status().map((s) => s.state),
    ['up', 'up'],
  );
});

t.test(
  "outbound: a carrier's 407 challenge goes back to the caller (answering it is the B2BUA's job)",
  async (t) => {
    const edge = await startTrunkEdge(t);
    const carrier = await fakeGateway(t, 'challenge');
    const good = await fakeGateway(t, 'answer');
    await addRoute(edge, '33', [
      await addTrunk(edge, carrier.port),
      await addTrunk(edge, good.port),
    ]);
    const alice = await deviceUa(t, edge, 'alice');
    const call = dial(edge, alice);
    t.equal(await status(call), 407);
    t.equal(good.invites.length, 0, 'no failover on a challenge');
    t.ok(carrier.invites.length >= 1);
  },
);

t.test('outbound: a trunk at its channel limit is skipped at admission', async (t) => {
  const edge = await startTrunkEdge(t);
  const first = await fakeGateway(t, 'answer');
  const second = await fakeGateway(t, 'answer');
  await addRoute(edge, '33', [
    await addTrunk(edge, first.port, { max_channels: 0 }),
    await addTrunk(edge, second.port),
  ]);
  const alice = await deviceUa(t, edge, 'alice');
  const call = await dial(edge, alice);
  t.equal(call.response.status, 200);
  t.equal(first.invites.length, 0, 'the full trunk got nothing');
  t.equal(second.invites.length, 1);
  await call.dialog.bye();
});
