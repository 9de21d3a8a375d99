import t from 'tap';
import type { RouteRequest } from '../../src/brain/brain.js';
import { create } from '../support/test-store.js';
import { setup } from '../support/route-setup.js';

t.test('route: every dest_kind on a DID becomes the right directive', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const flowId = await create(ts.store, 'call_flow', {
    account_id: pbx.accountId,
    name: 'ivr',
    graph_json: { start: 'menu' },
  });
  const queueId = await create(ts.store, 'queue', {
    account_id: pbx.accountId,
    name: 'support',
    agents: [{ user_id: pbx.users.carol }],
  });
  const rgId = await create(ts.store, 'ring_group', {
    account_id: pbx.accountId,
    name: 'sales',
    members: [{ user_id: pbx.users.bob }],
  });
  const extId = await create(ts.store, 'extension', {
    account_id: pbx.accountId,
    number: '201',
    dest_kind: 'user',
    dest_id: pbx.users.bob,
  });

  const flow = await brain.route(
    inbound(await did({ dest_kind: 'flow', dest_id: flowId, dest_xform: { lang: 'en' } })),
  );
  t.match(flow, {
    direction: 'inbound',
    accountId: pbx.accountId,
    directive: {
      kind: 'flow',
      app: 'call_flow',
      targetId: flowId,
      version: 1,
      variables: { lang: 'en' },
    },
  });

  const user = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.bob })));
  t.match(user.directive, {
    kind: 'proxy',
    fork: {
      strategy: 'parallel',
      legs: [{ deviceId: pbx.devices.bobDesk, aor: 'sip:bob@pbx.example.com' }],
    },
  });

  const ext = await brain.route(inbound(await did({ dest_kind: 'extension', dest_id: extId })));
  t.match(
    ext,
    { target: { kind: 'user', id: pbx.users.bob }, directive: { kind: 'proxy' } },
    'an extension is followed to its target',
  );

  const rg = await brain.route(inbound(await did({ dest_kind: 'ring_group', dest_id: rgId })));
  t.match(rg.directive, { kind: 'proxy', fork: { source: { kind: 'ring_group', id: rgId } } });

  const q = await brain.route(inbound(await did({ dest_kind: 'queue', dest_id: queueId })));
  t.match(q.directive, { kind: 'flow', app: 'queue', targetId: queueId });

  const vm = await brain.route(
    inbound(await did({ dest_kind: 'voicemail', dest_id: pbx.voicemailId })),
  );
  t.match(vm.directive, { kind: 'flow', app: 'voicemail', targetId: pbx.voicemailId });

  const conf = await brain.route(
    inbound(await did({ dest_kind: 'conference', dest_id: 'standup', dest_xform: { pin: '42' } })),
  );
  t.match(conf.directive, {
    kind: 'flow',
    app: 'conference',
    targetId: 'standup',
    variables: { pin: '42' },
  });

  const fwd = await brain.route(
    inbound(await did({ dest_kind: 'forward', dest_id: '+447911123456' })),
  );
  t.match(
    fwd.directive,
    {
      kind: 'outbound',
      routeId: pbx.routeUk,
      number: '447911123456',
      callerId: '447700900123',
      trunks: [
        { trunkId: pbx.trunkA, number: '447911123456', host: 'sip.carrier-a.test' },
        { trunkId: pbx.trunkB, number: '07911123456', callerId: '442079999999' },
      ],
    },
    'a forward to a PSTN number goes out by the longest-prefix route with per-hop transforms',
  );

  const trunkNumber = await did({ dest_kind: 'trunk', dest_id: pbx.trunkB });
  const trunk = await brain.route(inbound(trunkNumber));
  t.match(trunk.directive, {
    kind: 'outbound',
    routeId: null,
    trunks: [{ trunkId: pbx.trunkB, number: trunkNumber }],
  });

  const hang = await brain.route(inbound(await did({ dest_kind: 'hangup' })));
  t.match(hang.directive, { kind: 'reject', status: 603, reason: 'Decline' });
  const hang2 = await brain.route(
    inbound(await did({ dest_kind: 'hangup', dest_xform: { status: 404, reason: 'Gone' } })),
  );
  t.match(hang2.directive, { kind: 'reject', status: 404, reason: 'Gone' });
});

t.test(
  'route: direction is inbound for a DID, internal for users and extensions, outbound for numbers',
  async (t) => {
    const { ts, pbx, brain } = await setup(t);
    await create(ts.store, 'extension', {
      account_id: pbx.accountId,
      number: '202',
      dest_kind: 'user',
      dest_id: pbx.users.carol,
    });
    const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
    const from = { user: 'alice', host: pbx.domain };
    const byExt = await brain.route({
      callId: 'a',
      to: { user: '202', host: pbx.domain },
      from,
      caller,
    });
    t.match(byExt, { direction: 'internal', target: { kind: 'user', id: pbx.users.carol } });
    const byName = await brain.route({
      callId: 'b',
      to: { user: 'bob', host: pbx.domain },
      from,
      caller,
    });
    t.match(byName, { direction: 'internal', target: { kind: 'user', id: pbx.users.bob } });
    const out = await brain.route({
      callId: 'c',
      to: { user: '0033142685300', host: pbx.domain },
      from,
      caller,
    });
    t.match(out, {
      direction: 'outbound',
      directive: {
        kind: 'outbound',
        routeId: pbx.routeDefault,
        callerId: '442070000001',
        trunks: [{ number: '+33142685300' }],
      },
    });
    const nowhere = await brain.route({
      callId: 'd',
      to: { user: 'nobody', host: pbx.domain },
      from,
      caller,
    });
    t.match(nowhere.directive, {
      kind: 'reject',
      status: 404,
      code: 'CTL_ERR_UNKNOWN_DESTINATION',
    });
    const stranger = await brain.route({
      callId: 'e',
      to: { user: 'bob', host: pbx.domain },
      from: { user: 'x', host: 'evil.test' },
    });
    t.match(
      stranger.directive,
      { kind: 'reject', status: 407, code: 'CTL_ERR_UNAUTHORIZED' },
      'an unauthenticated caller to a non-DID is challenged',
    );
    const short = await brain.route({
      callId: 'f',
      to: { user: '12', host: pbx.domain },
      from,
      caller,
    });
    t.match(short.directive, { kind: 'reject', status: 404 });
  },
);

t.test(
  'route: outbound picks the longest prefix, then priority, and skips unusable trunks',
  async (t) => {
    const { ts, pbx, brain } = await setup(t);
    const trunkC = await create(ts.store, 'sip_trunk', {
      account_id: pbx.accountId,
      name: 'C',
      proxy_host: 'c.test',
    });
    const trunkD = await create(ts.store, 'sip_trunk', {
      account_id: pbx.accountId,
      name: 'D',
      proxy_host: 'd.test',
      status: 'disabled',
    });
    await create(ts.store, 'outbound_route', {
      account_id: pbx.accountId,
      name: 'mobile-2',
      prefix: '447',
      priority: 20,
      trunks: [{ trunk_id: pbx.trunkB }],
    });
    await create(ts.store, 'outbound_route', {
      account_id: pbx.accountId,
      name: 'mobile-1',
      prefix: '447',
      priority: 10,
      trunks: [{ trunk_id: trunkD }, { trunk_id: trunkC }],
    });
    await create(ts.store, 'outbound_route', {
      account_id: pbx.accountId,
      name: 'dead',
      prefix: '4479',
      priority: 1,
      trunks: [{ trunk_id: trunkD }],
    });
    const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
    const r = await brain.route({
      callId: 'x',
      to: { user: '+447912345678', host: 'h' },
      from: { user: 'alice', host: 'h' },
      caller,
    });
    t.match(r.directive, { kind: 'outbound', trunks: [{ trunkId: trunkC }] });
    t.equal(
      r.directive.kind === 'outbound' ? r.directive.trunks.length : 0,
      1,
      'the disabled trunk is left out; the 4479 route with no usable trunk is skipped',
    );
  },
);

t.test('route: an empty enforced wallet refuses outbound calls with 402', async (t) => {
  const { ts, pbx, brain } = await setup(t);
  ts.store.db
    .prepare('UPDATE wallet SET enforce = 1, balance_micros = 0 WHERE account_id = ?')
    .run(pbx.accountId);
  const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
  const r = await brain.route({
    callId: 'w',
    to: { user: '442071112222', host: 'h' },
    from: { user: 'alice', host: 'h' },
    caller,
  });
  t.match(r.directive, { kind: 'reject', status: 402, code: 'CTL_ERR_PAYMENT_REQUIRED' });
  await ts.store.records.adjustWallet(pbx.accountId, 5_000_000, 'top-up');
  const r2 = await brain.route({
    callId: 'w2',
    to: { user: '442071112222', host: 'h' },
    from: { user: 'alice', host: 'h' },
    caller,
  });
  t.equal(r2.directive.kind, 'outbound');
});

t.test(
  'route: refusals for unknown DIDs, suspended accounts, anonymous callers and loops',
  async (t) => {
    const { ts, pbx, brain, did, inbound } = await setup(t);
    const strict = await did(
      { dest_kind: 'user', dest_id: pbx.users.bob },
      { allow_anonymous: false },
    );
    const anon = await brain.route({
      ...inbound(strict),
      from: { user: 'anonymous', host: 'anonymous.invalid' },
    });
    t.match(anon.directive, { kind: 'reject', status: 433 }, 'RFC 5079 anonymity disallowed');
    const priv = await brain.route({ ...inbound(strict), privacy: true });
    t.match(priv.directive, { kind: 'reject', status: 433 });
    const loopExt = await create(ts.store, 'extension', {
      account_id: pbx.accountId,
      number: '555',
      dest_kind: 'hangup',
    });
    await ts.store.table('extension').update(loopExt, { dest_kind: 'forward', dest_id: '555' });
    const loop = await brain.route(
      inbound(await did({ dest_kind: 'extension', dest_id: loopExt })),
    );
    t.match(loop.directive, { kind: 'reject', status: 482, code: 'CTL_ERR_ROUTING_LOOP' });
    await ts.store.table('account').update(pbx.accountId, { status: 'suspended' });
    const suspended = await brain.route(inbound(strict));
    t.match(suspended.directive, { kind: 'reject', status: 403, code: 'CTL_ERR_ACCOUNT_DISABLED' });
    const unknown = await brain.route(inbound('15550000000'));
    t.match(unknown.directive, { kind: 'reject', status: 407 });
    const fromTrunk = await brain.route({ ...inbound('15550000000'), trunkId: pbx.trunkA });
    t.match(fromTrunk.directive, {
      kind: 'reject',
      status: 404,
      code: 'CTL_ERR_UNKNOWN_DESTINATION',
    });
    const garbage = await brain.route({ callId: 5, to: null, from: {} } as unknown as RouteRequest);
    t.match(
      garbage.directive,
      { kind: 'reject', status: 400, code: 'CTL_ERR_VALIDATION' },
      'malformed requests are refusals, not exceptions',
    );
  },
);
