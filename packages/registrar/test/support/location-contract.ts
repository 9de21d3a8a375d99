/**
 * The contract every LocationService passes (memory and Redis run the same suite). Time is a
 * ManualClock shared by the test and the service.
 */
import type { Test } from 'tap';
import { ManualClock } from '@switchboard/sip-stack';
import type { Binding, BindingChange, LocationEvents, LocationService } from '../../src/index.js';
import { makeBinding } from './binding-factory.js';

export type LocationFactory = (t: Test, clock: ManualClock) => Promise<LocationService>;

const AOR = '1002@a.example';

function upsert(b: Binding): BindingChange['ops'][number] {
  return { kind: 'upsert', binding: b };
}

function change(
  aor: string,
  ops: BindingChange['ops'],
  extra: Partial<BindingChange> = {},
): BindingChange {
  return { aor, callId: 'call-1', cseq: 1, ops, ...extra };
}

function record<K extends keyof LocationEvents>(
  svc: LocationService,
  event: K,
): LocationEvents[K][] {
  const seen: LocationEvents[K][] = [];
  svc.on(event, (...args: LocationEvents[K]) => void seen.push(args));
  return seen;
}

async function setup(
  t: Test,
  factory: LocationFactory,
): Promise<{ svc: LocationService; clock: ManualClock }> {
  const clock = new ManualClock(1_700_000_000_000);
  const svc = await factory(t, clock);
  return { svc, clock };
}

export function locationContract(t: Test, factory: LocationFactory): void {
  t.test('lookup of an AOR without bindings is empty', async (t) => {
    const { svc } = await setup(t, factory);
    t.same(await svc.lookup(AOR), []);
    t.equal(await svc.count(), 0);
  });

  t.test('apply adds bindings, reports them as added and keeps every field', async (t) => {
    const { svc, clock } = await setup(t, factory);
    const added = record(svc, 'added');
    const b = makeBinding(
      {
        aor: AOR,
        key: 'uri:a',
        q: 0.5,
        instanceId: '<urn:uuid:00000000-0000-0000-0000-000000000001>',
        regId: 1,
        path: ['<sip:edge.example;lr;ob>'],
        received: { protocol: 'tcp', address: '198.51.100.7', port: 40000 },
        target: { protocol: 'tcp', address: '198.51.100.7', port: 40000, flowId: 'tcp:x#1' },
        outbound: true,
        flowKey: 'local|tcp:x#1',
        userAgent: 'phone/1.0',
        identity: { username: '1002', realm: 'a.example', attributes: { accountId: 'acc1' } },
      },
      clock.now(),
    );
    const r = await svc.apply(change(AOR, [upsert(b)]));
    t.ok(r.ok);
    if (r.ok) t.same(r.added, [b]);
    t.same(await svc.lookup(AOR), [b]);
    t.same(added, [[b]]);
    t.equal(await svc.count(), 1);
  });

  t.test('lookup orders bindings by q, highest first, absent q as 1.0', async (t) => {
    const { svc, clock } = await setup(t, factory);
    const now = clock.now();
    const ops = [
      upsert(makeBinding({ aor: AOR, key: 'uri:low', q: 0.1 }, now)),
      upsert(makeBinding({ aor: AOR, key: 'uri:none', updatedAt: now - 1 }, now)),
      upsert(makeBinding({ aor: AOR, key: 'uri:mid', q: 0.5 }, now)),
      upsert(makeBinding({ aor: AOR, key: 'uri:top', q: 1 }, now)),
    ];
    await svc.apply(change(AOR, ops));
    t.same(
      (await svc.lookup(AOR)).map((b) => b.key),
      ['uri:top', 'uri:none', 'uri:mid', 'uri:low'],
    );
  });

  t.test(
    'a refresh with a higher CSeq updates the binding and keeps its first registration time',
    async (t) => {
      const { svc, clock } = await setup(t, factory);
      const first = makeBinding({ aor: AOR, key: 'uri:a' }, clock.now());
      await svc.apply(change(AOR, [upsert(first)]));
      const refreshed = record(svc, 'refreshed');
      clock.advance(60_000);
      const later = makeBinding(
        { aor: AOR, key: 'uri:a', cseq: 2, registeredAt: clock.now(), updatedAt: clock.now() },
        clock.now(),
      );
      const r = await svc.apply(change(AOR, [upsert(later)], { cseq: 2 }));
      t.ok(r.ok);
      const [now] = await svc.lookup(AOR);
      t.equal(now?.expiresAt, later.expiresAt);
      t.equal(now?.registeredAt, first.registeredAt);
      t.equal(refreshed.length, 1);
      t.equal(refreshed[0]?.[1].cseq, 1, 'the previous binding comes with the event');
      t.equal(await svc.count(), 1);
    },
  );

  t.test(
    'the same Call-ID with a CSeq not higher aborts the whole change (RFC 3261 §10.3 step 7)',
    async (t) => {
      const { svc, clock } = await setup(t, factory);
      await svc.apply(
        change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:a', cseq: 5 }, clock.now()))], {
          cseq: 5,
        }),
      );
      for (const cseq of [5, 4]) {
        const r = await svc.apply(
          change(
            AOR,
            [
              upsert(makeBinding({ aor: AOR, key: 'uri:new', cseq }, clock.now())),
              { kind: 'remove', key: 'uri:a' },
            ],
            { cseq },
          ),
        );
        t.same(r, { ok: false, code: 'LOC_ERR_OUT_OF_ORDER', key: 'uri:a' }, `CSeq ${cseq}`);
      }
      t.same(
        (await svc.lookup(AOR)).map((b) => b.key),
        ['uri:a'],
        'nothing changed',
      );
    },
  );

  t.test('another Call-ID may update a binding whatever its CSeq', async (t) => {
    const { svc, clock } = await setup(t, factory);
    await svc.apply(
      change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:a', cseq: 9 }, clock.now()))], {
        cseq: 9,
      }),
    );
    const b = makeBinding({ aor: AOR, key: 'uri:a', callId: 'call-2', cseq: 1 }, clock.now());
    const r = await svc.apply(change(AOR, [upsert(b)], { callId: 'call-2', cseq: 1 }));
    t.ok(r.ok);
    t.equal((await svc.lookup(AOR))[0]?.callId, 'call-2');
  });

  t.test('a remove op removes the binding and reports it as unregistered', async (t) => {
    const { svc, clock } = await setup(t, factory);
    await svc.apply(
      change(AOR, [
        upsert(makeBinding({ aor: AOR, key: 'uri:a' }, clock.now())),
        upsert(makeBinding({ aor: AOR, key: 'uri:b' }, clock.now())),
      ]),
    );
    const removed = record(svc, 'removed');
    const r = await svc.apply(
      change(
        AOR,
        [
          { kind: 'remove', key: 'uri:a' },
          { kind: 'remove', key: 'uri:absent' },
        ],
        { cseq: 2 },
      ),
    );
    t.ok(r.ok);
    if (r.ok)
      t.same(
        r.bindings.map((b) => b.key),
        ['uri:b'],
      );
    t.same(
      removed.map(([b, why]) => [b.key, why]),
      [['uri:a', 'unregistered']],
    );
  });

  t.test('removeAll removes every binding of the AOR, under the same ordering rule', async (t) => {
    const { svc, clock } = await setup(t, factory);
    await svc.apply(
      change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:a', cseq: 3 }, clock.now()))], {
        cseq: 3,
      }),
    );
    await svc.apply(
      change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:b', callId: 'other' }, clock.now()))], {
        callId: 'other',
      }),
    );
    t.same(await svc.apply(change(AOR, [], { removeAll: true, cseq: 2 })), {
      ok: false,
      code: 'LOC_ERR_OUT_OF_ORDER',
      key: 'uri:a',
    });
    t.equal((await svc.lookup(AOR)).length, 2);
    const r = await svc.apply(change(AOR, [], { removeAll: true, cseq: 4 }));
    t.ok(r.ok);
    if (r.ok) t.equal(r.removed.length, 2);
    t.same(await svc.lookup(AOR), []);
  });

  t.test(
    'maxBindings refuses a new binding beyond the limit but lets existing ones refresh',
    async (t) => {
      const { svc, clock } = await setup(t, factory);
      const now = clock.now();
      await svc.apply(
        change(
          AOR,
          [
            upsert(makeBinding({ aor: AOR, key: 'uri:a' }, now)),
            upsert(makeBinding({ aor: AOR, key: 'uri:b' }, now)),
          ],
          { maxBindings: 2 },
        ),
      );
      const over = await svc.apply(
        change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:c', cseq: 2 }, now))], {
          cseq: 2,
          maxBindings: 2,
        }),
      );
      t.same(over, { ok: false, code: 'LOC_ERR_TOO_MANY_BINDINGS' });
      const refresh = await svc.apply(
        change(AOR, [upsert(makeBinding({ aor: AOR, key: 'uri:a', cseq: 3 }, now))], {
          cseq: 3,
          maxBindings: 2,
        }),
      );
      t.ok(refresh.ok);
      t.equal((await svc.lookup(AOR)).length, 2);
    },
  );

  t.test('removeByFlow removes only the bindings that still die with that flow', async (t) => {
    const { svc, clock } = await setup(t, factory);
    const now = clock.now();
    await svc.apply(
      change(AOR, [
        upsert(makeBinding({ aor: AOR, key: 'ob:x#1', flowKey: 'n|f1' }, now)),
        upsert(makeBinding({ aor: AOR, key: 'ob:x#2', flowKey: 'n|f2' }, now)),
        upsert(makeBinding({ aor: AOR, key: 'uri:udp' }, now)),
      ]),
    );
    await svc.apply(
      change('9@b.example', [
        upsert(makeBinding({ aor: '9@b.example', key: 'ob:y#1', flowKey: 'n|f1' }, now)),
      ]),
    );
    // ob:x#2 moves from flow f2 to f3 on refresh
    await svc.apply(
      change(
        AOR,
        [upsert(makeBinding({ aor: AOR, key: 'ob:x#2', flowKey: 'n|f3', cseq: 2 }, now))],
        { cseq: 2 },
      ),
    );
    const removed = record(svc, 'removed');
    const gone = await svc.removeByFlow('n|f1');
    t.same(gone.map((b) => b.key).sort(), ['ob:x#1', 'ob:y#1']);
    t.same(
      removed.map(([, why]) => why),
      ['flow-closed', 'flow-closed'],
    );
    t.same((await svc.lookup(AOR)).map((b) => b.key).sort(), ['ob:x#2', 'uri:udp']);
    t.same(
      await svc.removeByFlow('n|f2'),
      [],
      'the binding left flow f2 when it was refreshed on f3',
    );
    t.same(
      (await svc.removeByFlow('n|f3')).map((b) => b.key),
      ['ob:x#2'],
    );
  });

  t.test('expired bindings vanish from lookup and are reported once by expire()', async (t) => {
    const { svc, clock } = await setup(t, factory);
    const now = clock.now();
    await svc.apply(
      change(AOR, [
        upsert(makeBinding({ aor: AOR, key: 'uri:short', expiresAt: now + 60_000 }, now)),
        upsert(makeBinding({ aor: AOR, key: 'uri:long', expiresAt: now + 3_600_000 }, now)),
      ]),
    );
    const expired = record(svc, 'expired');
    clock.advance(60_000);
    t.same(
      (await svc.lookup(AOR)).map((b) => b.key),
      ['uri:long'],
    );
    const gone = await svc.expire();
    const all = [...gone.map((b) => b.key), ...expired.map(([b]) => b.key)];
    t.ok(all.includes('uri:short'), 'the short binding expired');
    await svc.expire();
    t.equal(expired.filter(([b]) => b.key === 'uri:short').length, 1, 'reported once');
    t.equal(await svc.count(), 1);
  });

  t.test('registrations are scoped by domain: 1002@a is not 1002@b', async (t) => {
    const { svc, clock } = await setup(t, factory);
    await svc.apply(
      change('1002@a.example', [
        upsert(makeBinding({ aor: '1002@a.example', key: 'uri:a' }, clock.now())),
      ]),
    );
    await svc.apply(
      change('1002@b.example', [
        upsert(makeBinding({ aor: '1002@b.example', key: 'uri:b' }, clock.now())),
      ]),
    );
    t.same(
      (await svc.lookup('1002@a.example')).map((b) => b.key),
      ['uri:a'],
    );
    t.same(
      (await svc.lookup('1002@b.example')).map((b) => b.key),
      ['uri:b'],
    );
  });

  t.test(
    'remove() drops one binding administratively; bindings() and count() see every live one',
    async (t) => {
      const { svc, clock } = await setup(t, factory);
      const now = clock.now();
      for (let i = 0; i < 7; i++) {
        const aor = `u${i}@a.example`;
        await svc.apply(change(aor, [upsert(makeBinding({ aor, key: 'uri:x' }, now))]));
      }
      const removed = record(svc, 'removed');
      t.equal((await svc.remove('u3@a.example', 'uri:x'))?.aor, 'u3@a.example');
      t.equal(await svc.remove('u3@a.example', 'uri:x'), undefined);
      t.same(
        removed.map(([, why]) => why),
        ['removed'],
      );
      const seen: string[] = [];
      for await (const b of svc.bindings()) seen.push(b.aor);
      t.same(
        seen.sort(),
        ['u0', 'u1', 'u2', 'u4', 'u5', 'u6'].map((u) => `${u}@a.example`),
      );
      t.equal(await svc.count(), 6);
    },
  );
}
