import { createSocket, type Socket } from 'node:dgram';
import t from 'tap';
import { createCancel } from '../../src/message/build-request.js';
import type {
  ForwardTarget,
  GroupOutcome,
  GroupVerdict,
  RouteDecision,
} from '../../src/proxy/route-decision.js';
import type { FakeUa } from './support/fake-ua.js';
import { buildRequest } from './support/fake-ua.js';
import { scene, settle, type Scene } from './support/scene.js';

/** A UDP peer that reads and never answers (a gateway gone silent); counts what it got. */
async function silentPeer(t: { teardown(fn: () => unknown): void }) {
  const socket: Socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString('latin1').split(' ')[0] ?? ''));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  return { uri: `sip:silent@127.0.0.1:${socket.address().port}`, got };
}

interface Plan {
  first: () => ForwardTarget[][];
  after?: (o: GroupOutcome) => GroupVerdict | Promise<GroupVerdict>;
}

/** A scene whose routing callback forwards `plan.first()` with `plan.after` as afterGroup. */
async function planScene(t: Parameters<typeof scene>[0], plan: Plan, uasCount = 2): Promise<Scene> {
  return scene(t, {
    uasCount,
    route: (): Promise<RouteDecision> =>
      Promise.resolve({
        action: 'forward',
        targets: plan.first(),
        ...(plan.after === undefined ? {} : { afterGroup: plan.after }),
      }),
  });
}

t.test('proxy afterGroup: a 486 group is followed by the groups the verdict names', async (t) => {
  const outcomes: GroupOutcome[] = [];
  let uris: string[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '' }]],
    after: (o) => {
      outcomes.push(o);
      return o.group === 0
        ? { action: 'forward', targets: [[{ uri: uris[1] ?? '' }]] }
        : { action: 'stop' };
    },
  });
  uris = s.uas.map((u) => u.uri());
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  a.respond(await a.requests.next(), 486);
  const inB = await b.requests.next();
  t.equal(inB.request.method, 'INVITE', 'the continuation target is rung');
  b.respond(inB, 200);
  t.equal((await s.uac.nextResponse(call, 200)).status, 200);
  t.equal(outcomes.length, 1);
  t.same(
    outcomes[0]?.branches.map((x) => [x.response.status, x.synthetic, x.timedOut]),
    [[486, false, false]],
  );
  t.equal(outcomes[0]?.remaining, 0);
});

t.test(
  'proxy afterGroup: a forward verdict after 603 starts new branches (forward on busy)',
  async (t) => {
    let uris: string[] = [];
    const s = await planScene(t, {
      first: () => [[{ uri: uris[0] ?? '' }]],
      after: (o) =>
        o.group === 0 && o.best.status === 603
          ? { action: 'forward', targets: [[{ uri: uris[1] ?? '' }]] }
          : { action: 'continue' },
    });
    uris = s.uas.map((u) => u.uri());
    const [a, b] = s.uas as [FakeUa, FakeUa];
    const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
    a.respond(await a.requests.next(), 603);
    const inB = await b.requests.next();
    b.respond(inB, 486);
    const final = await s.uac.nextResponse(call, 200);
    t.equal(final.status, 603, 'the 6xx still wins the choice of the best response');
    t.equal(s.proxy.proxy.stats().contexts, 0);
  },
);

t.test('proxy afterGroup: stop sends the best response without trying later groups', async (t) => {
  let uris: string[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '' }], [{ uri: uris[1] ?? '' }]],
    after: () => ({ action: 'stop' }),
  });
  uris = s.uas.map((u) => u.uri());
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  a.respond(await a.requests.next(), 404);
  t.equal((await s.uac.nextResponse(call, 200)).status, 404);
  await settle();
  t.equal(b.requests.size, 0, 'the second group was not tried');
});

t.test('proxy afterGroup: continue keeps the default sequential rules', async (t) => {
  let uris: string[] = [];
  const seen: number[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '' }], [{ uri: uris[1] ?? '' }]],
    after: (o) => {
      seen.push(o.remaining);
      return { action: 'continue' };
    },
  });
  uris = s.uas.map((u) => u.uri());
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  a.respond(await a.requests.next(), 503);
  b.respond(await b.requests.next(), 486);
  t.equal((await s.uac.nextResponse(call, 200)).status, 486);
  t.same(seen, [1, 0], 'asked after each group, with the groups left');
});

t.test('proxy afterGroup: a reject verdict answers with its status', async (t) => {
  let uris: string[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '' }]],
    after: () => ({ action: 'reject', status: 480, headers: { 'Retry-After': '60' } }),
  });
  uris = s.uas.map((u) => u.uri());
  const [a] = s.uas as [FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  a.respond(await a.requests.next(), 487);
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 480);
  t.equal(final.headers.get('Retry-After'), '60');
});

t.test(
  'proxy afterGroup: a CANCEL while the verdict is pending gets 487 and no new branch',
  async (t) => {
    let uris: string[] = [];
    let decide: (v: GroupVerdict) => void = () => undefined;
    const s = await planScene(t, {
      first: () => [[{ uri: uris[0] ?? '' }]],
      after: () => new Promise<GroupVerdict>((resolve) => (decide = resolve)),
    });
    uris = s.uas.map((u) => u.uri());
    const [a, b] = s.uas as [FakeUa, FakeUa];
    const invite = buildRequest({ uri: 'sip:bob@example.test' });
    const call = s.uac.send(invite, s.proxy.target());
    a.respond(await a.requests.next(), 486);
    await settle();
    s.uac.send(createCancel(invite), s.proxy.target());
    t.equal((await s.uac.nextResponse(call, 200)).status, 487);
    decide({ action: 'forward', targets: [[{ uri: uris[1] ?? '' }]] });
    await settle();
    t.equal(b.requests.size, 0, 'nothing forwarded after the CANCEL');
    t.equal(s.proxy.proxy.stats().contexts, 0);
  },
);

t.test('proxy afterGroup: a throwing callback sends the best response', async (t) => {
  let uris: string[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '' }], [{ uri: uris[1] ?? '' }]],
    after: () => {
      throw new Error('boom');
    },
  });
  uris = s.uas.map((u) => u.uri());
  const [a] = s.uas as [FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  a.respond(await a.requests.next(), 486);
  t.equal((await s.uac.nextResponse(call, 200)).status, 486);
});

t.test(
  'proxy responseTimeoutMs: a silent next hop fails over to the next group long before Timer B',
  async (t) => {
    const silent = await silentPeer(t);
    let uris: string[] = [];
    const outcomes: GroupOutcome[] = [];
    const s = await planScene(
      t,
      {
        first: () => [[{ uri: silent.uri, responseTimeoutMs: 2000 }], [{ uri: uris[0] ?? '' }]],
        after: (o) => (outcomes.push(o), { action: 'continue' }),
      },
      1,
    );
    uris = s.uas.map((u) => u.uri());
    const [a] = s.uas as [FakeUa];
    const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
    await s.uac.nextResponse(call, 100);
    for (let i = 0; i < 50 && silent.got.length === 0; i++) await settle(10);
    t.same(silent.got, ['INVITE'], 'the silent hop got the INVITE');
    s.clock.advance(1999);
    await settle();
    t.equal(a.requests.size, 0, 'no failover before the response timeout');
    s.clock.advance(1);
    const inA = await a.requests.next();
    a.respond(inA, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 200);
    t.same(
      outcomes[0]?.branches.map((x) => [x.response.status, x.synthetic, x.timedOut]),
      [[408, true, true]],
    );
    const before = silent.got.length;
    s.clock.advance(4000);
    await settle();
    t.equal(silent.got.length, before, 'no retransmission to the silent hop after the timeout');
  },
);

t.test('proxy responseTimeoutMs: a 100 Trying in time stops the response timer', async (t) => {
  let uris: string[] = [];
  const s = await planScene(t, {
    first: () => [[{ uri: uris[0] ?? '', responseTimeoutMs: 1000 }], [{ uri: uris[1] ?? '' }]],
  });
  uris = s.uas.map((u) => u.uri());
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  a.respond(inA, 100);
  await settle();
  s.clock.advance(5000);
  await settle();
  t.equal(b.requests.size, 0, 'no failover once the hop answered');
  a.respond(inA, 200);
  t.equal((await s.uac.nextResponse(call, 200)).status, 200);
});

t.test(
  'proxy timeoutMs: a ringing branch is cancelled at its timeout and the outcome says so',
  async (t) => {
    let uris: string[] = [];
    const outcomes: GroupOutcome[] = [];
    const s = await planScene(t, {
      first: () => [[{ uri: uris[0] ?? '', timeoutMs: 20_000 }]],
      after: (o) => (outcomes.push(o), { action: 'reject', status: 480 }),
    });
    uris = s.uas.map((u) => u.uri());
    const [a] = s.uas as [FakeUa];
    const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
    const inA = await a.requests.next();
    a.respond(inA, 180);
    t.equal((await s.uac.nextResponse(call)).status, 180);
    s.clock.advance(19_999);
    await settle();
    t.equal(a.requests.size, 0, 'not cancelled before the timeout');
    s.clock.advance(1);
    const cancel = await a.requests.next();
    t.equal(cancel.request.method, 'CANCEL');
    t.equal(
      (await s.uac.nextResponse(call, 200)).status,
      480,
      'the verdict does not wait for the callee to answer the CANCEL',
    );
    t.same(
      outcomes[0]?.branches.map((x) => [x.response.status, x.synthetic, x.timedOut]),
      [[408, true, true]],
    );
    a.respond(cancel, 200);
    a.respond(inA, 487);
    await settle();
    t.equal(call.responses.size, 0, "the callee's late 487 is absorbed");
  },
);

t.test('proxy timeoutMs: a branch with no provisional ends at once with 408', async (t) => {
  const silent = await silentPeer(t);
  const outcomes: GroupOutcome[] = [];
  const s = await planScene(
    t,
    {
      first: () => [[{ uri: silent.uri, timeoutMs: 3000 }]],
      after: (o) => (outcomes.push(o), { action: 'continue' }),
    },
    1,
  );
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  await s.uac.nextResponse(call, 100);
  s.clock.advance(3000);
  t.equal((await s.uac.nextResponse(call, 200)).status, 408);
  t.same(
    outcomes[0]?.branches.map((x) => [x.response.status, x.synthetic, x.timedOut]),
    [[408, true, true]],
  );
  t.notOk(silent.got.includes('CANCEL'), 'no CANCEL before a provisional (RFC 3261 §9.1)');
});

t.test('proxy RouteContext.isLocalHost names our listening address only', async (t) => {
  const seen: boolean[][] = [];
  const s = await scene(t, {
    route: (_r, ctx) => {
      seen.push([
        ctx.isLocalHost?.('127.0.0.1') ?? false,
        ctx.isLocalHost?.('example.org') ?? true,
      ]);
      return Promise.resolve({ action: 'reject', status: 404 });
    },
  });
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  t.equal((await s.uac.nextResponse(call, 200)).status, 404);
  t.same(seen, [[true, false]]);
});
