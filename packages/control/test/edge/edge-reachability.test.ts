import t from 'tap';
import type { PresenceEvent } from '../../src/brain/brain.js';
import { demoUa, register, startEdgeFixture } from './support/edge-fixture.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

t.test(
  'qualify: a registered device is reported reachable while it answers OPTIONS, then unreachable',
  async (t) => {
    const fx = await startEdgeFixture('never', { '--sip-qualify-interval-sec': '1' });
    t.teardown(() => fx.close());
    const brain = fx.server.brain;
    const events: PresenceEvent[] = [];
    const forward = brain.presenceEvent.bind(brain);
    brain.presenceEvent = (e: PresenceEvent) => {
      events.push(e);
      return forward(e);
    };
    const password = fx.passwords['1001'];
    if (password === undefined) throw new Error('demo credentials not printed');
    const ua = await demoUa('1001', password);
    let options = 0;
    ua.on('request', (req) => {
      if (req.method === 'OPTIONS') options++;
    });
    let closed = false;
    t.teardown(() => (closed ? undefined : ua.close()));
    await register(ua, '1001', fx.sipPort, password);
    const of = (type: PresenceEvent['type']) =>
      events.find((e) => e.type === type) as
        Extract<PresenceEvent, { deviceId: string }> | undefined;
    await until('the registered event', () => of('registered') !== undefined, 5000);
    const device = of('registered');
    if (device === undefined) throw new Error('unreachable');
    await until('the reachable event', () => of('reachable') !== undefined, 5000);
    t.equal(of('reachable')?.deviceId, device.deviceId, 'the device that registered');
    t.ok(options >= 1, 'the UA was sent an OPTIONS and answered it');
    t.same(brain.presence.onlineDevices(device.userId), [device.deviceId]);

    // The UA goes away without unregistering: the next OPTIONS times out (Timer F, 64*T1).
    await ua.close();
    closed = true;
    await until('the unreachable event', () => of('unreachable') !== undefined, 45_000);
    t.equal(of('unreachable')?.deviceId, device.deviceId);
    t.notOk(brain.presence.isOnline(device.userId), 'registered but not online');
    t.same(brain.presence.unreachableDevices(device.userId), [device.deviceId]);
    t.equal(events.filter((e) => e.type === 'reachable').length, 1, 'reported once per change');
  },
);

t.test('qualify is off by default: a registered UA gets no OPTIONS', async (t) => {
  const fx = await startEdgeFixture('never');
  t.teardown(() => fx.close());
  const password = fx.passwords['1002'];
  if (password === undefined) throw new Error('demo credentials not printed');
  const ua = await demoUa('1002', password);
  t.teardown(() => ua.close());
  let options = 0;
  ua.on('request', (req) => {
    if (req.method === 'OPTIONS') options++;
  });
  await register(ua, '1002', fx.sipPort, password);
  await sleep(1500);
  t.equal(options, 0);
});
