import t from 'tap';
import { create } from '../support/test-store.js';
import { setup } from '../support/route-setup.js';

t.test('user handling: forward-always wins over everything else', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  await ts.store.table('sip_user').update(pbx.users.bob, {
    dnd: true,
    fwd_always_dest_kind: 'user',
    fwd_always_dest_id: pbx.users.carol,
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.bob })));
  t.match(r, {
    target: { kind: 'user', id: pbx.users.carol },
    directive: { kind: 'proxy', fork: { legs: [{ deviceId: pbx.devices.carolDesk }] } },
  });
});

t.test('user handling: DND goes to the busy target, else voicemail, else 486', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const users = ts.store.table('sip_user');
  const number = await did({ dest_kind: 'user', dest_id: pbx.users.bob });
  await users.update(pbx.users.bob, { dnd: true });
  t.match((await brain.route(inbound(number))).directive, {
    kind: 'reject',
    status: 486,
    reason: 'Busy Here',
  });
  await users.update(pbx.users.bob, { voicemail_id: pbx.voicemailId });
  t.match((await brain.route(inbound(number))).directive, {
    kind: 'flow',
    app: 'voicemail',
    targetId: pbx.voicemailId,
  });
  await users.update(pbx.users.bob, {
    fwd_busy_dest_kind: 'user',
    fwd_busy_dest_id: pbx.users.dave,
  });
  t.match((await brain.route(inbound(number))).directive, {
    kind: 'proxy',
    fork: { legs: [{ deviceId: pbx.devices.daveDesk }] },
  });
});

t.test('user handling: simultaneous rings every ring_on_fork device at once', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const tablet = await create(ts.store, 'sip_device', {
    account_id: pbx.accountId,
    user_id: pbx.users.alice,
    auth_username: 'alice-tablet',
    password: 'longenough',
    ring_on_fork: false,
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.alice })));
  t.match(r.directive, { kind: 'proxy', fork: { strategy: 'parallel', ringTimeoutSec: 30 } });
  const legs = r.directive.kind === 'proxy' ? r.directive.fork.legs : [];
  t.same(
    legs.map((l) => l.deviceId),
    [pbx.devices.aliceDesk, pbx.devices.aliceMobile],
  );
  t.notOk(
    legs.some((l) => l.deviceId === tablet),
    'a device with ring_on_fork off is not forked to',
  );
  t.match(
    r.directive,
    { onNoAnswer: { kind: 'flow', app: 'voicemail' }, onBusy: { kind: 'flow', app: 'voicemail' } },
    'no answer / busy fall back to voicemail',
  );
});

t.test('user handling: sequential rings devices one after another by ring_order', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  await ts.store
    .table('sip_user')
    .update(pbx.users.alice, { ring_strategy: 'sequential', ring_timeout_sec: 10 });
  await ts.store.table('sip_device').update(pbx.devices.aliceDesk, { ring_order: 9 });
  const r = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.alice })));
  t.match(r.directive, {
    kind: 'proxy',
    fork: {
      strategy: 'sequential',
      ringTimeoutSec: 20,
      legs: [
        { deviceId: pbx.devices.aliceMobile, step: 0, timeoutSec: 10 },
        { deviceId: pbx.devices.aliceDesk, step: 1 },
      ],
    },
  });
});

t.test('user handling: specific rings only the chosen device', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  await ts.store.table('sip_user').update(pbx.users.alice, {
    ring_strategy: 'specific',
    ring_device_id: pbx.devices.aliceMobile,
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.alice })));
  t.match(r.directive, { kind: 'proxy', fork: { legs: [{ deviceId: pbx.devices.aliceMobile }] } });
  t.equal(r.directive.kind === 'proxy' ? r.directive.fork.legs.length : 0, 1);
});

t.test(
  'user handling: no ringable device goes straight to no-answer target, else voicemail, else 480',
  async (t) => {
    const { ts, pbx, brain, did, inbound } = await setup(t);
    await ts.store.table('sip_device').update(pbx.devices.bobDesk, { status: 'disabled' });
    const number = await did({ dest_kind: 'user', dest_id: pbx.users.bob });
    t.match((await brain.route(inbound(number))).directive, { kind: 'reject', status: 480 });
    await ts.store.table('sip_user').update(pbx.users.bob, { voicemail_id: pbx.voicemailId });
    t.match((await brain.route(inbound(number))).directive, { kind: 'flow', app: 'voicemail' });
    await ts.store.table('sip_user').update(pbx.users.bob, {
      fwd_noanswer_dest_kind: 'forward',
      fwd_noanswer_dest_id: '447911000111',
    });
    t.match((await brain.route(inbound(number))).directive, {
      kind: 'outbound',
      number: '447911000111',
    });
  },
);

t.test('user handling: no-answer and busy targets become continuations of the proxy', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  await ts.store.table('sip_user').update(pbx.users.bob, {
    fwd_noanswer_dest_kind: 'user',
    fwd_noanswer_dest_id: pbx.users.carol,
    fwd_busy_dest_kind: 'hangup',
    fwd_busy_dest_xform: { status: 486, reason: 'Busy' },
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'user', dest_id: pbx.users.bob })));
  t.match(r.directive, {
    kind: 'proxy',
    fork: { legs: [{ deviceId: pbx.devices.bobDesk }] },
    onNoAnswer: { kind: 'proxy', fork: { legs: [{ deviceId: pbx.devices.carolDesk }] } },
    onBusy: { kind: 'reject', status: 486 },
  });
});

t.test(
  'user handling: a disabled user is unavailable; reject_anonymous refuses hidden callers',
  async (t) => {
    const { ts, pbx, brain, did, inbound } = await setup(t);
    const number = await did({ dest_kind: 'user', dest_id: pbx.users.bob });
    await ts.store.table('sip_user').update(pbx.users.bob, { reject_anonymous: true });
    t.match(
      (
        await brain.route({
          ...inbound(number),
          from: { user: 'anonymous', host: 'anonymous.invalid' },
        })
      ).directive,
      { kind: 'reject', status: 433 },
    );
    t.match((await brain.route(inbound(number))).directive, { kind: 'proxy' });
    await ts.store.table('sip_user').update(pbx.users.bob, { status: 'disabled' });
    t.match((await brain.route(inbound(number))).directive, { kind: 'reject', status: 480 });
  },
);

t.test('ring group: ring_all rings every member with its own delay', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const rg = await create(ts.store, 'ring_group', {
    account_id: pbx.accountId,
    name: 'sales',
    strategy: 'ring_all',
    ring_timeout_sec: 40,
    members: [
      { user_id: pbx.users.bob },
      { user_id: pbx.users.carol, delay_sec: 10 },
      { user_id: pbx.users.dave, delay_sec: 20, timeout_sec: 5 },
    ],
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'ring_group', dest_id: rg })));
  t.match(r.directive, {
    kind: 'proxy',
    fork: {
      strategy: 'parallel',
      ringTimeoutSec: 40,
      legs: [
        { deviceId: pbx.devices.bobDesk, delaySec: 0 },
        { deviceId: pbx.devices.carolDesk, delaySec: 10 },
        { deviceId: pbx.devices.daveDesk, delaySec: 20, timeoutSec: 5 },
      ],
    },
    onNoAnswer: null,
  });
});

t.test("ring group: sequential rings members in order, a member's devices together", async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const rg = await create(ts.store, 'ring_group', {
    account_id: pbx.accountId,
    name: 'support',
    strategy: 'sequential',
    member_timeout_sec: 12,
    members: [{ user_id: pbx.users.alice }, { user_id: pbx.users.bob, timeout_sec: 7 }],
    exit_dest_kind: 'voicemail',
    exit_dest_id: pbx.voicemailId,
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'ring_group', dest_id: rg })));
  t.match(
    r.directive,
    {
      kind: 'proxy',
      fork: {
        strategy: 'sequential',
        legs: [
          { deviceId: pbx.devices.aliceDesk, step: 0, timeoutSec: 12 },
          { deviceId: pbx.devices.aliceMobile, step: 0, timeoutSec: 12 },
          { deviceId: pbx.devices.bobDesk, step: 1, timeoutSec: 7 },
        ],
      },
      onNoAnswer: { kind: 'flow', app: 'voicemail' },
    },
    'the exit target is the no-answer continuation',
  );
});

t.test(
  'ring group: round_robin starts one member further on each call and skips DND members',
  async (t) => {
    const { ts, pbx, brain, did, inbound } = await setup(t);
    const rg = await create(ts.store, 'ring_group', {
      account_id: pbx.accountId,
      name: 'rr',
      strategy: 'round_robin',
      members: [
        { user_id: pbx.users.bob },
        { user_id: pbx.users.carol },
        { user_id: pbx.users.dave },
      ],
    });
    const number = await did({ dest_kind: 'ring_group', dest_id: rg });
    const firstDevice = async () => {
      const d = (await brain.route(inbound(number))).directive;
      return d.kind === 'proxy' ? d.fork.legs[0]?.deviceId : undefined;
    };
    t.equal(await firstDevice(), pbx.devices.bobDesk);
    t.equal(await firstDevice(), pbx.devices.carolDesk);
    t.equal(await firstDevice(), pbx.devices.daveDesk);
    t.equal(await firstDevice(), pbx.devices.bobDesk, 'wraps around');
    await ts.store.table('sip_user').update(pbx.users.carol, { dnd: true });
    const d = (await brain.route(inbound(number))).directive;
    t.same(
      d.kind === 'proxy' ? d.fork.legs.map((l) => l.deviceId) : [],
      [pbx.devices.daveDesk, pbx.devices.bobDesk],
      'carol on DND is skipped',
    );
  },
);

t.test('ring group: with nobody available the exit target is taken at once', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  await ts.store.table('sip_user').update(pbx.users.bob, { dnd: true });
  const rg = await create(ts.store, 'ring_group', {
    account_id: pbx.accountId,
    name: 'empty',
    members: [{ user_id: pbx.users.bob }],
    exit_dest_kind: 'conference',
    exit_dest_id: 'lobby',
  });
  const r = await brain.route(inbound(await did({ dest_kind: 'ring_group', dest_id: rg })));
  t.match(r.directive, { kind: 'flow', app: 'conference', targetId: 'lobby' });
});
