import t from 'tap';
import {
  ManualClock,
  createResponse,
  type ClientTransaction,
  type ClientTransactionHandler,
  type SipRequest,
  type Target,
} from '@switchboard/sip-stack';
import {
  TrunkDispatcher,
  gatewayKey,
  type GatewayStatus,
  type ProbeSender,
  type TrunkDispatcherOptions,
} from '../../src/edge/trunk-dispatcher.js';
import { fakeGateway, silentGateway, startTrunkEdge, until } from './support/trunk-fixture.js';

interface Sent {
  request: SipRequest;
  target: Target;
  handler: ClientTransactionHandler;
  disposed: boolean;
}

/** Records probes; the test answers them by hand. */
class FakeSender implements ProbeSender {
  readonly sent: Sent[] = [];

  sendRequest(request: SipRequest, target: Target, handler: ClientTransactionHandler) {
    const s: Sent = { request, target, handler, disposed: false };
    this.sent.push(s);
    return { request, dispose: () => (s.disposed = true) } as unknown as ClientTransaction;
  }

  answer(i: number, status: number): void {
    const s = this.sent[i];
    if (s === undefined) throw new Error(`no probe #${i}`);
    s.handler.onResponse(createResponse(s.request, status), {} as ClientTransaction);
  }
}

const GW = { host: '192.0.2.10', port: 5060, transport: 'udp' as const };

function setup(options: Partial<TrunkDispatcherOptions> = {}) {
  const clock = new ManualClock();
  const sender = new FakeSender();
  const changes: GatewayStatus[] = [];
  const d = new TrunkDispatcher({
    transactions: sender,
    clock,
    intervalMs: 30_000,
    onStateChange: (s) => changes.push(s),
    ...options,
  });
  d.track(GW);
  d.start();
  return { clock, sender, d, changes };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const state = (d: TrunkDispatcher) => d.status()[0]?.state;

t.test(
  'dispatcher: a tracked gateway starts up and is probed with OPTIONS each interval',
  async (t) => {
    const { clock, sender, d } = setup();
    t.equal(state(d), 'up');
    t.ok(d.isUp({ host: '198.51.100.1', port: 5060, transport: 'udp' }), 'unknown gateways are up');
    clock.advance(29_999);
    await flush();
    t.equal(sender.sent.length, 0, 'no probe before the interval');
    clock.advance(1);
    await flush();
    t.equal(sender.sent.length, 1);
    const probe = sender.sent[0];
    t.equal(probe?.request.method, 'OPTIONS');
    t.equal(probe?.request.uri, 'sip:192.0.2.10:5060;transport=udp');
    t.same(probe?.target, { protocol: 'udp', address: '192.0.2.10', port: 5060 });
    sender.answer(0, 200);
    await flush();
    clock.advance(30_000);
    await flush();
    t.equal(sender.sent.length, 2, 'probed again on the next interval');
    t.equal(gatewayKey(GW), '192.0.2.10:5060:udp');
  },
);

t.test('dispatcher: probes carry the Call-IDs of the callId option', async (t) => {
  let n = 0;
  const { clock, sender } = setup({ callId: () => `sbw1-probe${++n}` });
  clock.advance(30_000);
  await flush();
  sender.answer(0, 200);
  await flush();
  clock.advance(30_000);
  await flush();
  t.same(
    sender.sent.map((s) => s.request.callId),
    ['sbw1-probe1', 'sbw1-probe2'],
  );
});

t.test('dispatcher: down after N failed probes, up again after M successful ones', async (t) => {
  const { clock, sender, d, changes } = setup({ failureThreshold: 2, successThreshold: 2 });
  const tick = async (status: number) => {
    clock.advance(30_000);
    await flush();
    sender.answer(sender.sent.length - 1, status);
    await flush();
  };
  await tick(500);
  t.equal(state(d), 'up', 'one failure is not enough');
  await tick(404);
  t.equal(state(d), 'down', 'a response that is not 2xx counts as a failure');
  t.notOk(d.isUp(GW));
  await tick(200);
  t.equal(state(d), 'down', 'one success is not enough');
  await tick(200);
  t.equal(state(d), 'up');
  t.same(
    changes.map((c) => c.state),
    ['down', 'up'],
  );
});

t.test('dispatcher: configured reply codes count as up (ds_ping_reply_codes)', async (t) => {
  const { clock, sender, d } = setup({ upCodes: [404] });
  d.reportFailure(GW, 'test');
  clock.advance(30_000);
  await flush();
  sender.answer(0, 404);
  await flush();
  t.equal(state(d), 'up');
});

t.test('dispatcher: a probe without an answer fails at its timeout', async (t) => {
  const { clock, sender, d } = setup({ probeTimeoutMs: 2000 });
  clock.advance(30_000);
  await flush();
  t.equal(sender.sent.length, 1);
  clock.advance(1999);
  t.equal(state(d), 'up');
  clock.advance(1);
  t.equal(state(d), 'down');
  t.equal(sender.sent[0]?.disposed, true, 'the probe transaction is abandoned');
  sender.sent[0]?.handler.onTransportError(new Error('late') as never, {} as ClientTransaction);
  t.equal(d.status()[0]?.failures, 1, 'a late event of the abandoned probe is ignored');
});

t.test('dispatcher: a transport error is a failure', async (t) => {
  const { clock, sender, d } = setup();
  clock.advance(30_000);
  await flush();
  sender.sent[0]?.handler.onTransportError(new Error('refused') as never, {} as ClientTransaction);
  t.equal(state(d), 'down');
});

t.test(
  'dispatcher: live traffic marks a gateway down at once; a probe brings it back',
  async (t) => {
    const { clock, sender, d } = setup({ failureThreshold: 3 });
    d.reportFailure(GW, 'INVITE 503');
    t.equal(state(d), 'down', 'no threshold for live failures');
    clock.advance(30_000);
    await flush();
    sender.answer(0, 200);
    await flush();
    t.equal(state(d), 'up');
  },
);

t.test('dispatcher: stop ends probing; start is idempotent', async (t) => {
  const { clock, sender, d } = setup();
  d.start();
  clock.advance(30_000);
  await flush();
  t.equal(sender.sent.length, 1, 'one timer, not two');
  d.stop();
  d.stop();
  clock.advance(120_000);
  await flush();
  t.equal(sender.sent.length, 1);
  t.equal(sender.sent[0]?.disposed, true, 'the probe in flight is abandoned');
});

t.test('dispatcher: a gateway that does not resolve counts as a failed probe', async (t) => {
  const { d, sender } = setup({ resolve: () => Promise.resolve(undefined) });
  d.track({ host: 'gw.carrier.test', port: 5060, transport: 'udp' });
  const probing = d.probeAll();
  await flush();
  t.equal(sender.sent.length, 1, 'only the IP gateway was sent a probe');
  sender.answer(0, 200);
  await probing;
  const named = d.status().find((s) => s.host === 'gw.carrier.test');
  t.equal(named?.state, 'down');
});

t.test('dispatcher: interval 0 sends no OPTIONS probes at all', async (t) => {
  const { clock, sender, d } = setup({ intervalMs: 0 });
  t.notOk(d.probing);
  clock.advance(10 * 60_000);
  await flush();
  t.equal(sender.sent.length, 0, 'no probe, however long');
  t.equal(state(d), 'up');
});

t.test(
  'dispatcher without probes: a gateway live traffic marked down is tried again after the hold-down',
  (t) => {
    const { clock, sender, d, changes } = setup({ intervalMs: 0, holdDownMs: 20_000 });
    d.reportFailure(GW, 'INVITE timeout');
    t.notOk(d.isUp(GW), 'down at once');
    clock.advance(19_999);
    t.notOk(d.isUp(GW), 'still down before the hold-down ends');
    clock.advance(1);
    t.ok(d.isUp(GW), 'up again: the next call tries it');
    t.equal(state(d), 'up');
    t.same(
      changes.map((c) => c.state),
      ['down', 'up'],
    );
    d.reportFailure(GW, '503');
    t.notOk(d.isUp(GW), 'a new failure starts a new hold-down');
    t.equal(sender.sent.length, 0);
    t.end();
  },
);

t.test('dispatcher with probes: a down gateway waits for a probe, not for a hold-down', (t) => {
  const { clock, d } = setup({ holdDownMs: 1_000 });
  d.reportFailure(GW, 'INVITE timeout');
  clock.advance(5_000);
  t.notOk(d.isUp(GW));
  t.end();
});

t.test('dispatcher: tracking is bounded', (t) => {
  const { d } = setup({ maxGateways: 2 });
  for (let i = 0; i < 10; i++) d.track({ host: `192.0.2.${20 + i}`, port: 5060, transport: 'udp' });
  t.equal(d.status().length, 2);
  t.end();
});

t.test('dispatcher over real sockets: OPTIONS to a live and a silent gateway', async (t) => {
  const edge = await startTrunkEdge(t, { dispatcher: { probeTimeoutMs: 3000 } });
  const live = await fakeGateway(t, 'answer');
  const silent = await silentGateway(t);
  const liveGw = { host: '127.0.0.1', port: live.port, transport: 'udp' as const };
  const silentGw = { host: '127.0.0.1', port: silent.port, transport: 'udp' as const };
  edge.trunks.track(liveGw);
  edge.trunks.track(silentGw);
  edge.trunks.reportFailure(liveGw, 'test');
  const probing = edge.trunks.probeAll();
  await until(() => live.options === 1, 'the OPTIONS probe at the live gateway');
  await until(() => edge.trunks.isUp(liveGw), 'the live gateway to come back up');
  edge.clock.advance(3000);
  await probing;
  t.ok(edge.trunks.isUp(liveGw));
  t.notOk(edge.trunks.isUp(silentGw), 'the silent gateway is down');
});
