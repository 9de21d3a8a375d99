/** Path (RFC 3327), SIP Outbound (RFC 5626) and NAT handling over real UDP and TCP on loopback. */
import t from 'tap';
import type { SipEndpoint, SipRequest } from '@switchboard/sip-stack';
import { ReachabilityMonitor } from '../../src/index.js';
import {
  nextEvent,
  recordEvents,
  register,
  startRegistrar,
  startUa,
  uaContact,
  type Harness,
} from '../support/registrar-harness.js';

const INSTANCE = '<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6>';

function outboundContact(ua: SipEndpoint, regId = 1): string {
  return `<${uaContact(ua, '1002')};ob>;+sip.instance="${INSTANCE}";reg-id=${regId}`;
}

async function registerFlow(h: Harness, ua: SipEndpoint, callId: string) {
  return register(h, ua, {
    user: '1002',
    expires: 600,
    callId,
    contacts: [outboundContact(ua)],
    headers: { Supported: 'outbound, path' },
  });
}

/** Polls a condition (bounded) — for effects that come from the peer without an event. */
async function until(cond: () => boolean, deadlineMs = 5000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

t.test(
  'outbound over TCP: the 200 requires outbound with a Flow-Timer and the binding targets the flow (RFC 5626 §6)',
  async (t) => {
    const h = await startRegistrar(t, { flowTimer: 90 });
    const ua = await startUa(t, 'tcp');
    const res = await registerFlow(h, ua, 'ob-1');
    t.equal(res.status, 200);
    t.equal(res.headers.get('Require'), 'outbound');
    t.equal(res.headers.get('Flow-Timer'), '90');
    t.match(res.headers.get('Contact') ?? '', /\+sip\.instance="<urn:uuid:f81d4fae/);
    const [b] = await h.registrar.lookup('1002@a.example');
    t.equal(b?.outbound, true);
    t.equal(b?.regId, 1);
    t.equal(b?.instanceId, INSTANCE);
    t.equal(b?.key, `ob|${INSTANCE}|1`);
    t.ok(
      b?.target?.flowId !== undefined && b.target.flowId === b.source.flowId,
      'target is the flow',
    );
    t.equal(b?.flowKey, `local|${b?.source.flowId}`);
  },
);

t.test(
  'outbound: a new flow with the same instance and reg-id replaces the binding; it dies with its connection',
  async (t) => {
    const h = await startRegistrar(t);
    const ua1 = await startUa(t, 'tcp');
    const ua2 = await startUa(t, 'tcp');
    await registerFlow(h, ua1, 'boot-1');
    const [first] = await h.registrar.lookup('1002@a.example');
    const refreshed = nextEvent(h.registrar, 'refreshed');
    await registerFlow(h, ua2, 'boot-2');
    const [b, prev] = await refreshed;
    t.equal(prev.source.flowId, first?.source.flowId);
    t.not(b.source.flowId, first?.source.flowId, 'the binding moved to the new flow');
    t.equal((await h.registrar.lookup('1002@a.example')).length, 1);

    // the old flow closing leaves the binding alone
    const oldClosed = new Promise<void>((resolve) =>
      h.server.transport.onFlowClosed((flow) => {
        if (flow.flowId === first?.source.flowId) resolve();
      }),
    );
    await ua1.close();
    await oldClosed;
    t.equal(
      (await h.registrar.lookup('1002@a.example')).length,
      1,
      'still bound after the old flow closed',
    );

    const gone = nextEvent(h.registrar, 'unregistered');
    await ua2.close();
    const [dead, reason] = await gone;
    t.equal(reason, 'flow-closed');
    t.equal(dead.source.flowId, b.source.flowId);
    t.same(await h.registrar.lookup('1002@a.example'), []);
  },
);

t.test(
  'reg-id without Supported: outbound is ordinary RFC 3261 registration keyed by instance',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t, 'tcp');
    const res = await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: [outboundContact(ua)],
    });
    t.equal(res.status, 200);
    t.equal(res.headers.get('Require'), undefined);
    const [b] = await h.registrar.lookup('1002@a.example');
    t.equal(b?.outbound, false);
    t.equal(b?.key, `inst|${INSTANCE}`);
  },
);

t.test(
  'outbound behind a proxy that left no ob Path gets 439; with an ob Path the edge owns the flow',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t, 'udp');
    const extraVia = 'SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKedge1';
    const headers = { Supported: 'outbound, path', Via: extraVia };
    const c = [outboundContact(ua)];
    const noPath = await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: c,
      headers,
      callId: 'p1',
    });
    t.equal(noPath.status, 439);
    const withOb = await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: c,
      headers: { ...headers, Path: '<sip:127.0.0.1:5099;lr;ob>' },
      callId: 'p2',
    });
    t.equal(withOb.status, 200);
    t.equal(withOb.headers.get('Require'), 'outbound');
    t.equal(
      withOb.headers.get('Flow-Timer'),
      undefined,
      'the edge proxy sends keep-alive timing, not us',
    );
    const [b] = await h.registrar.lookup('1002@a.example');
    t.same(
      b?.target,
      { protocol: 'udp', address: '127.0.0.1', port: 5099 },
      'requests go to the first Path hop',
    );
    t.equal(b?.flowKey, undefined);
  },
);

t.test(
  'Path is stored and echoed in the 200 only when the UA supports path (RFC 3327 §5.3)',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t);
    const path = ['<sip:p1.example;lr>', '<sip:p2.example;lr>'];
    const echoed = await register(h, ua, {
      user: '1002',
      expires: 600,
      headers: { Path: path, Supported: 'path' },
      callId: 'a',
    });
    t.same(echoed.headers.values('Path'), path);
    const silent = await register(h, ua, {
      user: '1003',
      expires: 600,
      headers: { Path: path },
      callId: 'b',
    });
    t.same(silent.headers.values('Path'), []);
    t.same((await h.registrar.lookup('1003@a.example'))[0]?.path, path, 'stored all the same');
  },
);

t.test(
  'NAT: a Contact that differs from the source is stored with received, and requests reach it through the pinhole',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t, 'udp');
    const seen: SipRequest[] = [];
    ua.on('request', (incoming) => void seen.push(incoming.request));
    const lp = ua.listeningPoints()[0];
    await register(h, ua, { user: '1002', expires: 600, contacts: ['<sip:1002@10.0.0.5:5060>'] });
    const [b] = await h.registrar.lookup('1002@a.example');
    t.match(b?.received, { protocol: 'udp', address: '127.0.0.1', port: lp?.local.port });
    t.match(b?.target, { protocol: 'udp', address: '127.0.0.1', port: lp?.local.port });
    if (b?.target === undefined) throw new Error('no target');
    const res = await h.server.request({ method: 'OPTIONS', uri: b.uri, target: b.target });
    t.equal(res.status, 200, 'the NATed UA answered');
    t.equal(seen[0]?.uri, 'sip:1002@10.0.0.5:5060', 'with the registered Contact as Request-URI');
  },
);

t.test(
  'no NAT: a Contact equal to the source keeps its own address as target, without received',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t, 'udp');
    await register(h, ua, { user: '1002', expires: 600 });
    const [b] = await h.registrar.lookup('1002@a.example');
    const lp = ua.listeningPoints()[0];
    t.equal(b?.received, undefined);
    t.same(b?.target, { protocol: 'udp', address: '127.0.0.1', port: lp?.local.port });
  },
);

t.test(
  'NAT over TCP without outbound: the binding needs its connection and dies with it',
  async (t) => {
    const h = await startRegistrar(t);
    const ua = await startUa(t, 'tcp');
    await register(h, ua, {
      user: '1002',
      expires: 600,
      contacts: ['<sip:1002@10.0.0.5:5060;transport=tcp>'],
    });
    const [b] = await h.registrar.lookup('1002@a.example');
    t.ok(b?.flowKey !== undefined && b.target?.flowId !== undefined);
    const events = recordEvents(h.registrar, 'unregistered');
    const gone = nextEvent(h.registrar, 'unregistered');
    await ua.close();
    await gone;
    t.equal(events[0]?.[1], 'flow-closed');
  },
);

t.test(
  'keep-alive: outbound TCP flows get a CRLFCRLF ping on the interval and the UA answers it',
  async (t) => {
    const h = await startRegistrar(t, {});
    const ua = await startUa(t, 'tcp');
    await registerFlow(h, ua, 'ka');
    const monitor = new ReachabilityMonitor({
      location: h.location,
      clock: h.clock,
      keepAlive: { sender: h.server.transport, intervalMs: 25_000 },
    });
    t.teardown(() => monitor.stop());
    monitor.start();
    const before = ua.transport.stats().keepAlivesAnswered;
    h.clock.advance(25_000);
    t.ok(
      await until(() => ua.transport.stats().keepAlivesAnswered === before + 1),
      'the UA answered one ping',
    );
  },
);
