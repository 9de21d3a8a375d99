/** The monitor's state machine with a fake qualify client (no sockets). */
import t, { type Test } from 'tap';
import { ManualClock } from '@switchboard/sip-stack';
import {
  MemoryLocationService,
  ReachabilityMonitor,
  type Binding,
  type QualifyResult,
} from '../../src/index.js';
import { makeBinding } from '../support/binding-factory.js';

async function setup(t: Test, answer: (b: Binding) => QualifyResult) {
  const clock = new ManualClock(0);
  const location = new MemoryLocationService({ clock });
  const asked: string[] = [];
  const monitor = new ReachabilityMonitor({
    location,
    clock,
    qualify: {
      client: { qualify: (b) => (asked.push(b.aor), Promise.resolve(answer(b))) },
      intervalMs: 10_000,
      concurrency: 2,
    },
    filter: (b) => !b.aor.startsWith('skip'),
  });
  t.teardown(() => monitor.stop());
  for (const aor of ['1@a.example', '2@a.example', '3@a.example', 'skip@a.example']) {
    await location.apply({
      aor,
      callId: 'c',
      cseq: 1,
      ops: [{ kind: 'upsert', binding: makeBinding({ aor, key: 'uri:x' }, 0) }],
    });
  }
  const events: string[] = [];
  monitor.on('reachable', (b) => events.push(`up ${b.aor}`));
  monitor.on('unreachable', (b, why) => events.push(`down ${b.aor} ${why}`));
  return { clock, location, monitor, asked, events };
}

t.test('state changes are reported once each; unchanged states are silent', async (t) => {
  let down = new Set(['2@a.example']);
  const { monitor, events, asked } = await setup(t, (b) =>
    down.has(b.aor) ? { ok: false, reason: 'timeout' } : { ok: true, status: 200 },
  );
  await monitor.qualifyAll();
  t.same(events.sort(), ['down 2@a.example timeout', 'up 1@a.example', 'up 3@a.example']);
  t.notOk(asked.includes('skip@a.example'), 'the filter leaves bindings out');
  events.length = 0;
  await monitor.qualifyAll();
  t.same(events, [], 'nothing changed, nothing reported');
  down = new Set(['1@a.example']);
  await monitor.qualifyAll();
  t.same(events.sort(), ['down 1@a.example timeout', 'up 2@a.example']);
});

t.test('qualify runs on its interval once started and stops with stop()', async (t) => {
  const { clock, monitor, asked } = await setup(t, () => ({ ok: true, status: 404 }));
  monitor.start();
  clock.advance(10_000);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  t.equal(asked.length, 3, 'any final response counts: one pass over the three selected bindings');
  monitor.stop();
  clock.advance(50_000);
  await new Promise((r) => setImmediate(r));
  t.equal(asked.length, 3, 'no pass after stop');
});

t.test('a binding without a target is not marked either way', async (t) => {
  const { monitor, events } = await setup(t, () => ({ ok: false, reason: 'no-target' }));
  await monitor.qualifyAll();
  t.same(events, []);
});
