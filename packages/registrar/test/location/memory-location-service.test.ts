import t from 'tap';
import { ManualClock } from '@switchboard/sip-stack';
import { MemoryLocationService } from '../../src/index.js';
import { makeBinding } from '../support/binding-factory.js';
import { locationContract } from '../support/location-contract.js';

t.test('memory location service: contract', (t) => {
  locationContract(t, (t, clock) => {
    const svc = new MemoryLocationService({ clock });
    t.teardown(() => svc.close());
    return Promise.resolve(svc);
  });
  t.end();
});

t.test('memory location service: one timer sweeps the expiry of every binding', async (t) => {
  const clock = new ManualClock(0);
  const svc = new MemoryLocationService({ clock });
  t.teardown(() => svc.close());
  const expired: string[] = [];
  svc.on('expired', (b) => expired.push(b.aor));
  for (let i = 0; i < 200; i++) {
    const aor = `u${i}@a.example`;
    const b = makeBinding({ aor, key: 'uri:x', expiresAt: 1000 * (200 - i) }, 0);
    await svc.apply({ aor, callId: 'c', cseq: 1, ops: [{ kind: 'upsert', binding: b }] });
  }
  t.equal(clock.pending, 1, 'a single timer, not one per binding');
  clock.advance(100_000);
  t.equal(
    expired.length,
    100,
    'due bindings expired as time passed, without expire() being called',
  );
  t.equal(expired[0], 'u199@a.example', 'earliest deadline first');
  t.equal(await svc.count(), 100);
  t.equal(clock.pending, 1);
  clock.advance(100_000);
  t.equal(expired.length, 200);
  t.equal(clock.pending, 0, 'no timer left when nothing is registered');
});

t.test('memory location service: a refresh moves the expiry later', async (t) => {
  const clock = new ManualClock(0);
  const svc = new MemoryLocationService({ clock });
  t.teardown(() => svc.close());
  const aor = '1@a.example';
  const first = makeBinding({ aor, key: 'uri:x', expiresAt: 60_000 }, 0);
  await svc.apply({ aor, callId: 'c', cseq: 1, ops: [{ kind: 'upsert', binding: first }] });
  clock.advance(50_000);
  const again = makeBinding({ aor, key: 'uri:x', cseq: 2, expiresAt: 110_000 }, 50_000);
  await svc.apply({ aor, callId: 'c', cseq: 2, ops: [{ kind: 'upsert', binding: again }] });
  clock.advance(20_000);
  t.equal((await svc.lookup(aor)).length, 1, 'still registered after the first deadline');
  clock.advance(40_000);
  t.equal((await svc.lookup(aor)).length, 0);
});

t.test(
  'memory location service: an AOR and a flow go from one binding to two and back to one',
  async (t) => {
    const clock = new ManualClock(0);
    const svc = new MemoryLocationService({ clock });
    t.teardown(() => svc.close());
    const aor = '1@a.example';
    const put = (key: string, cseq: number, expiresAt: number) =>
      svc.apply({
        aor,
        callId: 'c',
        cseq,
        ops: [
          { kind: 'upsert', binding: makeBinding({ aor, key, cseq, flowKey: 'n|f', expiresAt }) },
        ],
      });
    await put('uri:a', 1, 60_000);
    await put('uri:b', 2, 120_000);
    t.same((await svc.lookup(aor)).map((b) => b.key).sort(), ['uri:a', 'uri:b']);
    const gone = await svc.remove(aor, 'uri:a');
    t.equal(gone?.key, 'uri:a');
    const refreshed = await put('uri:b', 3, 180_000);
    t.same(refreshed.ok && refreshed.refreshed.map((b) => b.expiresAt), [180_000]);
    t.same(
      (await svc.lookup(aor)).map((b) => b.key),
      ['uri:b'],
    );
    t.same(
      (await svc.removeByFlow('n|f')).map((b) => b.key),
      ['uri:b'],
      'flow index followed',
    );
    t.equal(await svc.count(), 0);
    t.same(await svc.lookup(aor), []);
    clock.advance(200_000);
    t.same(await svc.expire(), [], 'nothing left in the expiry heap');
  },
);

t.test('memory location service: a refresh keeps the first registration time', async (t) => {
  const clock = new ManualClock(1000);
  const svc = new MemoryLocationService({ clock });
  t.teardown(() => svc.close());
  const aor = '1@a.example';
  const first = makeBinding({ aor, key: 'uri:x' }, 1000);
  await svc.apply({ aor, callId: 'c', cseq: 1, ops: [{ kind: 'upsert', binding: first }] });
  clock.advance(5000);
  const again = makeBinding({ aor, key: 'uri:x', cseq: 2 }, 6000);
  const r = await svc.apply({
    aor,
    callId: 'c',
    cseq: 2,
    ops: [{ kind: 'upsert', binding: again }],
  });
  const [b] = await svc.lookup(aor);
  t.same(r.ok && r.refreshed.map((x) => [x.registeredAt, x.updatedAt]), [[1000, 6000]]);
  t.same([b?.registeredAt, b?.updatedAt, b?.cseq], [1000, 6000, 2]);
  t.same(JSON.parse(JSON.stringify(b)), { ...again, registeredAt: 1000 }, 'nothing else changed');
});

t.test(
  'memory location service: a refresh keeps the previous binding’s unchanged values, not copies',
  async (t) => {
    const svc = new MemoryLocationService({ clock: new ManualClock(0) });
    t.teardown(() => svc.close());
    const aor = 'u1@a.example';
    const first = makeBinding({
      aor,
      key: 'k',
      identity: { username: 'u1', attributes: { a: 'x' } },
    });
    await svc.apply({ aor, callId: 'c', cseq: 1, ops: [{ kind: 'upsert', binding: first }] });
    const refreshed: [string, string][] = [];
    const pairs: { next: unknown; prev: unknown }[] = [];
    svc.on('refreshed', (next, prev) => {
      refreshed.push([next.callId, prev.callId]);
      pairs.push({ next, prev });
    });
    const again = makeBinding({
      aor,
      key: 'k',
      uri: first.uri,
      contact: `${first.contact}`,
      source: { ...first.source, remote: { ...first.source.remote } },
      identity: { username: 'u1', attributes: { a: 'x' } },
      cseq: 2,
      expiresAt: 7200_000,
    });
    await svc.apply({ aor, callId: 'c', cseq: 2, ops: [{ kind: 'upsert', binding: again }] });
    const [{ next, prev } = { next: undefined, prev: undefined }] = pairs as {
      next: typeof first;
      prev: typeof first;
    }[];
    t.ok(next !== undefined && prev !== undefined);
    if (next === undefined || prev === undefined) return;
    t.equal(next.source, prev.source, 'an equal source: the previous object');
    t.equal(next.identity, prev.identity, 'an equal identity: the previous object');
    t.not(next.source, again.source);
    t.equal(next.cseq, 2, 'what changed is the new value');
    t.equal(next.expiresAt, 7200_000);
    const changed = makeBinding({ aor, key: 'k', cseq: 3, identity: { username: 'u2' } });
    await svc.apply({ aor, callId: 'c', cseq: 3, ops: [{ kind: 'upsert', binding: changed }] });
    const last = pairs[1]?.next as typeof first | undefined;
    t.same(last?.identity, { username: 'u2' }, 'a different identity is the new one');
    t.end();
  },
);

t.test(
  'memory location service: bindings expire in deadline order under random refreshes',
  async (t) => {
    const clock = new ManualClock(0);
    const svc = new MemoryLocationService({ clock });
    t.teardown(() => svc.close());
    const expired: number[] = [];
    svc.on('expired', (b) => expired.push(b.expiresAt));
    let seed = 11;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let i = 0; i < 600; i++) {
      const aor = `u${random(150)}@a.example`;
      const b = makeBinding({ aor, key: 'k', cseq: i, expiresAt: 1000 + random(100_000) }, 0);
      await svc.apply({ aor, callId: `c${i}`, cseq: i, ops: [{ kind: 'upsert', binding: b }] });
    }
    const live = await svc.count();
    clock.advance(200_000);
    t.equal(expired.length, live, 'every binding expired');
    t.same(
      expired,
      [...expired].sort((a, b) => a - b),
      'in deadline order',
    );
    t.end();
  },
);
