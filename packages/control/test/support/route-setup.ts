import type { Test } from 'tap';
import type { RouteRequest } from '../../src/brain/brain.js';
import { LocalBrain } from '../../src/brain/local-brain.js';
import { buildPbx } from './pbx-fixture.js';
import { create, openTestStore } from './test-store.js';

/** A PBX fixture with an in-process brain, a DID factory and an inbound-request builder. */
export async function setup(t: Test) {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
  let n = 0;
  const did = async (dest: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    const number = `4420300000${String(n++).padStart(2, '0')}`;
    await create(ts.store, 'did', { account_id: pbx.accountId, number, ...dest, ...extra });
    return number;
  };
  const inbound = (number: string, from = '447700900123'): RouteRequest => ({
    callId: `c-${number}-${from}`,
    to: { user: number, host: 'sbc.example.net' },
    from: { user: from, host: 'carrier.test' },
  });
  return { ts, pbx, brain, did, inbound };
}
