import t from 'tap';
import type { RouteDecision } from '../../src/proxy/route-decision.js';
import { buildRequest } from './support/fake-ua.js';
import { scene, settle } from './support/scene.js';

t.test('proxy §16.3: Max-Forwards 0 on an INVITE is answered 483 and not forwarded', async (t) => {
  const s = await scene(t);
  const sent = s.uac.send(buildRequest({ uri: s.uas[0]!.uri(), maxForwards: 0 }), s.proxy.target());
  const r = await s.uac.nextResponse(sent);
  t.equal(r.status, 483);
  t.equal(s.proxy.routed.length, 0, 'routing callback not asked');
  t.equal(s.uas[0]!.requests.size, 0);
});

t.test(
  'proxy §16.3: OPTIONS with Max-Forwards 0 is answered 200 by the proxy itself',
  async (t) => {
    const s = await scene(t);
    const req = buildRequest({ method: 'OPTIONS', uri: s.uas[0]!.uri(), maxForwards: 0 });
    const r = await s.uac.nextResponse(s.uac.send(req, s.proxy.target()));
    t.equal(r.status, 200);
    t.match(r.headers.get('Allow') ?? '', /INVITE/);
  },
);

t.test(
  'proxy §16.6 item 3: Max-Forwards is decremented, and added as 70 when absent',
  async (t) => {
    const s = await scene(t);
    s.uac.send(
      buildRequest({ method: 'MESSAGE', uri: s.uas[0]!.uri(), maxForwards: 10 }),
      s.proxy.target(),
    );
    const a = await s.uas[0]!.requests.next();
    t.equal(a.request.maxForwards, 9);
    s.uac.send(
      buildRequest({ method: 'MESSAGE', uri: s.uas[0]!.uri(), maxForwards: -1 }),
      s.proxy.target(),
    );
    const b = await s.uas[0]!.requests.next();
    t.equal(b.request.maxForwards, 70);
  },
);

t.test(
  'proxy §16.3: a request that comes back with the same routing fields is a loop → 482',
  async (t) => {
    const s = await scene(t, {
      // Misrouting: the proxy sends the request to itself, unchanged.
      route: (request) => Promise.resolve({ action: 'forward', targets: [[{ uri: request.uri }]] }),
    });
    const req = buildRequest({ method: 'MESSAGE', uri: s.proxy.uri('udp', 'bob') });
    const r = await s.uac.nextResponse(s.uac.send(req, s.proxy.target()));
    t.equal(r.status, 482);
    t.equal(s.proxy.routed.length, 1, 'the looped copy was stopped before routing');
  },
);

t.test('proxy §16.3: a spiral (Request-URI changed) through the proxy is not a loop', async (t) => {
  let uasUri = '';
  let proxyBob2 = '';
  const s = await scene(t, {
    route: (request): Promise<RouteDecision> =>
      Promise.resolve({
        action: 'forward',
        targets: [[{ uri: request.uri.includes('bob2@') ? uasUri : proxyBob2 }]],
      }),
  });
  uasUri = s.uas[0]!.uri();
  proxyBob2 = s.proxy.uri('udp', 'bob2');
  s.uac.send(buildRequest({ method: 'MESSAGE', uri: s.proxy.uri('udp', 'bob') }), s.proxy.target());
  const got = await s.uas[0]!.requests.next();
  t.equal(got.request.via.length, 3, 'two proxy Vias and the UAC Via');
  t.equal(s.proxy.routed.length, 2);
  s.uas[0]!.respond(got, 200);
});

t.test('proxy §16.3: an unsupported Proxy-Require option → 420 with Unsupported', async (t) => {
  const s = await scene(t, { options: { supported: ['sec-agree'] } });
  const bad = buildRequest({
    uri: s.uas[0]!.uri(),
    headers: { 'Proxy-Require': 'sec-agree, foo' },
  });
  const r = await s.uac.nextResponse(s.uac.send(bad, s.proxy.target()));
  t.equal(r.status, 420);
  t.equal(r.headers.get('Unsupported'), 'foo');
  const good = buildRequest({
    method: 'MESSAGE',
    uri: s.uas[0]!.uri(),
    headers: { 'Proxy-Require': 'sec-agree' },
  });
  s.uac.send(good, s.proxy.target());
  const got = await s.uas[0]!.requests.next();
  t.equal(got.request.headers.get('Proxy-Require'), 'sec-agree', 'supported option passes through');
});

t.test('proxy §16.3: a Request-URI scheme the proxy does not route → 416', async (t) => {
  const s = await scene(t);
  const req = buildRequest({ method: 'MESSAGE', uri: 'mailto:bob@example.test' });
  const r = await s.uac.nextResponse(s.uac.send(req, s.proxy.target()));
  t.equal(r.status, 416);
});

t.test('proxy: a reject decision is sent with its status, reason and headers', async (t) => {
  const s = await scene(t, {
    route: () =>
      Promise.resolve({
        action: 'reject',
        status: 403,
        reason: 'Nope',
        headers: { 'X-Why': 'policy' },
      }),
  });
  const r = await s.uac.nextResponse(
    s.uac.send(buildRequest({ uri: s.uas[0]!.uri() }), s.proxy.target()),
  );
  t.equal(r.status, 403);
  t.equal(r.reason, 'Nope');
  t.equal(r.headers.get('X-Why'), 'policy');
  await settle();
  t.equal(s.proxy.proxy.stats().contexts, 0, 'context released');
});

t.test('proxy: a failing routing callback answers 500; no targets answers 480', async (t) => {
  let calls = 0;
  const s = await scene(t, {
    route: () =>
      calls++ === 0
        ? Promise.reject(new Error('boom'))
        : Promise.resolve({ action: 'forward', targets: [[]] }),
  });
  const a = await s.uac.nextResponse(
    s.uac.send(buildRequest({ uri: s.uas[0]!.uri() }), s.proxy.target()),
  );
  t.equal(a.status, 500);
  const b = await s.uac.nextResponse(
    s.uac.send(buildRequest({ uri: s.uas[0]!.uri() }), s.proxy.target()),
  );
  t.equal(b.status, 480);
});
