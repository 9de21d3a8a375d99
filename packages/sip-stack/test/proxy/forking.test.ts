import t, { type Test } from 'tap';
import type { SipResponse } from '../../src/message/sip-message.js';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import type { FakeUa, ReceivedRequest, SentRequest } from './support/fake-ua.js';
import { buildRequest } from './support/fake-ua.js';
import { scene, settle, type Scene } from './support/scene.js';

/** Routes every request to the UASs of the scene, in the given groups (indexes). */
async function forkScene(t: Parameters<typeof scene>[0], groups: number[][]): Promise<Scene> {
  let uris: string[] = [];
  const s = await scene(t, {
    uasCount: Math.max(...groups.flat()) + 1,
    route: (): Promise<RouteDecision> =>
      Promise.resolve({
        action: 'forward',
        targets: groups.map((g) => g.map((i) => ({ uri: uris[i] ?? '' }))),
      }),
  });
  uris = s.uas.map((u) => u.uri());
  return s;
}

/** The UAS answers a CANCEL it receives: 200 to the CANCEL, 487 to the INVITE. */
async function answerCancel(t: Test, uas: FakeUa, invite: ReceivedRequest): Promise<void> {
  const cancel = await uas.requests.next();
  t.equal(cancel.request.method, 'CANCEL', 'the branch was cancelled');
  t.equal(
    cancel.request.topVia?.branch,
    invite.request.topVia?.branch,
    'CANCEL matches the INVITE branch',
  );
  uas.respond(cancel, 200);
  uas.respond(invite, 487);
}

async function finals(call: SentRequest): Promise<SipResponse[]> {
  await settle();
  const out: SipResponse[] = [];
  while (call.responses.size > 0) {
    const r = await call.responses.next();
    if (r.status >= 200) out.push(r);
  }
  return out;
}

t.test(
  'proxy §16.7: parallel fork forwards the first 2xx and cancels the ringing loser',
  async (t) => {
    const s = await forkScene(t, [[0, 1]]);
    const [a, b] = s.uas as [FakeUa, FakeUa];
    const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
    const inA = await a.requests.next();
    const inB = await b.requests.next();
    b.respond(inB, 180);
    t.equal((await s.uac.nextResponse(call)).status, 180, '180 forwarded at once');
    a.respond(inA, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 200);
    await answerCancel(t, b, inB);
    t.same(
      (await finals(call)).map((r) => r.status),
      [],
      'the 487 of the loser is not forwarded',
    );
    t.equal(s.proxy.proxy.stats().contexts, 0, 'response context released');
  },
);

t.test(
  'proxy §16.10/§9.1: a branch with no provisional is cancelled only once one arrives',
  async (t) => {
    const s = await forkScene(t, [[0, 1]]);
    const [a, b] = s.uas as [FakeUa, FakeUa];
    const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
    const inA = await a.requests.next();
    const inB = await b.requests.next();
    a.respond(inA, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 200);
    await settle();
    t.equal(b.requests.size, 0, 'no CANCEL before a provisional');
    b.respond(inB, 180);
    await answerCancel(t, b, inB);
    t.same(
      (await finals(call)).map((r) => r.status),
      [],
    );
  },
);

t.test('proxy §16.7: every 2xx of a parallel fork is forwarded', async (t) => {
  const s = await forkScene(t, [[0, 1]]);
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  const inB = await b.requests.next();
  a.respond(inA, 200);
  b.respond(inB, 200);
  const all = [await s.uac.nextResponse(call, 200), await s.uac.nextResponse(call, 200)];
  t.same(
    all.map((r) => r.status),
    [200, 200],
  );
  t.not(all[0]?.toTag, all[1]?.toTag, 'two dialogs');
});

t.test('proxy §16.5: sequential fork tries the next group after a 486', async (t) => {
  const s = await forkScene(t, [[0], [1]]);
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  await settle();
  t.equal(b.requests.size, 0, 'second group waits');
  a.respond(inA, 486);
  const inB = await b.requests.next();
  b.respond(inB, 200);
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 200);
  t.same(
    (await finals(call)).map((r) => r.status),
    [],
    'the 486 was not forwarded',
  );
});

t.test('proxy §16.7 item 5: a 6xx cancels pending branches and stops forking', async (t) => {
  const s = await forkScene(t, [[0, 1], [2]]);
  const [a, b, c] = s.uas as [FakeUa, FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  const inB = await b.requests.next();
  a.respond(inA, 180);
  await s.uac.nextResponse(call);
  b.respond(inB, 603);
  await answerCancel(t, a, inA);
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 603, 'the 6xx is chosen over the 487');
  await settle();
  t.equal(c.requests.size, 0, 'the next group was never tried');
});

t.test('proxy §16.7 item 6: the lowest class wins; 3xx goes back to the caller', async (t) => {
  const s = await forkScene(t, [[0, 1]]);
  const [a, b] = s.uas as [FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  const inB = await b.requests.next();
  a.respond(inA, 404);
  b.respond(inB, 302, { headers: { Contact: '<sip:elsewhere@example.test>' } });
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 302);
  t.equal(final.contacts[0]?.uri, 'sip:elsewhere@example.test');
});

t.test('proxy §16.7 item 7: 401 and 407 challenges of all branches are aggregated', async (t) => {
  const s = await forkScene(t, [[0, 1, 2]]);
  const [a, b, c] = s.uas as [FakeUa, FakeUa, FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const [inA, inB, inC] = [
    await a.requests.next(),
    await b.requests.next(),
    await c.requests.next(),
  ];
  a.respond(inA, 401, { headers: { 'WWW-Authenticate': 'Digest realm="a", nonce="1"' } });
  c.respond(inC, 486);
  b.respond(inB, 407, { headers: { 'Proxy-Authenticate': 'Digest realm="b", nonce="2"' } });
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 401);
  t.same(final.headers.getAll('WWW-Authenticate'), ['Digest realm="a", nonce="1"']);
  t.same(final.headers.getAll('Proxy-Authenticate'), ['Digest realm="b", nonce="2"']);
});

t.test('proxy §16.7 item 6: a 503 goes upstream as 500', async (t) => {
  const s = await forkScene(t, [[0]]);
  const [a] = s.uas as [FakeUa];
  const call = s.uac.send(buildRequest({ uri: 'sip:bob@example.test' }), s.proxy.target());
  const inA = await a.requests.next();
  a.respond(inA, 503, { headers: { 'Retry-After': '30' } });
  const final = await s.uac.nextResponse(call, 200);
  t.equal(final.status, 500);
  t.equal(final.headers.has('Retry-After'), false);
});

t.test(
  'proxy §16.7: a non-INVITE fork forwards the first 2xx and drops later finals',
  async (t) => {
    const s = await forkScene(t, [[0, 1]]);
    const [a, b] = s.uas as [FakeUa, FakeUa];
    const call = s.uac.send(
      buildRequest({ method: 'MESSAGE', uri: 'sip:bob@example.test' }),
      s.proxy.target(),
    );
    const inA = await a.requests.next();
    const inB = await b.requests.next();
    b.respond(inB, 202);
    a.respond(inA, 200);
    t.equal((await s.uac.nextResponse(call, 200)).status, 202);
    t.same(
      (await finals(call)).map((r) => r.status),
      [],
      'the second 2xx is absorbed by the transaction',
    );
  },
);
