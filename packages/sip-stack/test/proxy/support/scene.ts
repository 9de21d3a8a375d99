/** A UAC, the proxy and one or more UASs on 127.0.0.1, torn down with the test. */
import { ManualClock } from '../../../src/util/clock.js';
import type { TransportProtocol } from '../../../src/transport/transport.js';
import { FakeUa } from './fake-ua.js';
import { startProxy, type HarnessOptions, type ProxyHarness } from './proxy-harness.js';

export interface Scene {
  clock: ManualClock;
  proxy: ProxyHarness;
  uac: FakeUa;
  uas: FakeUa[];
}

export interface SceneOptions extends Omit<HarnessOptions, 'clock'> {
  uasCount?: number;
  uasProtocols?: readonly TransportProtocol[];
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

export async function scene(t: Teardown, options: SceneOptions = {}): Promise<Scene> {
  const clock = new ManualClock();
  const proxy = await startProxy({ ...options, clock });
  const uac = await FakeUa.create({ clock, user: 'alice' });
  const uas: FakeUa[] = [];
  for (let i = 0; i < (options.uasCount ?? 1); i++) {
    uas.push(
      await FakeUa.create({
        clock,
        user: `bob${i}`,
        ...(options.uasProtocols === undefined ? {} : { protocols: options.uasProtocols }),
      }),
    );
  }
  t.teardown(async () => {
    await Promise.all([proxy.close(), uac.close(), ...uas.map((u) => u.close())]);
  });
  return { clock, proxy, uac, uas };
}

/** Lets in-flight datagrams and promise callbacks run (no clock movement). */
export function settle(ms = 30): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
