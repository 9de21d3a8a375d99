import t from 'tap';
import type { Test } from 'tap';
import { LocalBrain } from '../../src/brain/local-brain.js';
import type { AdmitDecision, AdmitRequest } from '../../src/brain/brain.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { create, must, openTestStore } from '../support/test-store.js';

async function setup(t: Test) {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
  const out = (callId: string, extra: Partial<AdmitRequest> = {}): AdmitRequest => ({
    callId,
    accountId: pbx.accountId,
    direction: 'outbound',
    ...extra,
  });
  return { ts, pbx, brain, out };
}

const counters = async (brain: LocalBrain, accountId: string) =>
  (await brain.cacStatus(accountId)).accounts[0]?.counters ?? {};

t.test(
  'admission: the account limit refuses the call over it and counts nothing for it',
  async (t) => {
    const { ts, pbx, brain, out } = await setup(t);
    await ts.store.table('account').update(pbx.accountId, { max_out: 2 });
    t.match(await brain.admit(out('c1')), { ok: true, counters: ['acct:outbound'] });
    t.match(await brain.admit(out('c2')), { ok: true });
    t.match(await brain.admit(out('c3')), {
      ok: false,
      code: 'CTL_ERR_LIMIT_REACHED',
      limit: 'acct:outbound',
      status: 503,
    });
    t.same(await counters(brain, pbx.accountId), { 'acct:outbound': { current: 2, limit: 2 } });
    t.match(await brain.release({ callId: 'c1' }), {
      ok: true,
      released: true,
      counters: ['acct:outbound'],
    });
    t.match(await brain.admit(out('c3')), { ok: true });
    t.match(
      await brain.release({ callId: 'nope' }),
      { released: false },
      'releasing an unknown call is harmless',
    );
  },
);

t.test(
  'admission: user, DID and trunk channel limits are checked together and released exactly',
  async (t) => {
    const { ts, pbx, brain, out } = await setup(t);
    await ts.store.table('sip_user').update(pbx.users.alice, { max_simultaneous: 1 });
    await ts.store.table('sip_trunk').update(pbx.trunkA, { max_channels: 2 });
    const didId = await create(ts.store, 'did', {
      account_id: pbx.accountId,
      number: '442030000099',
      dest_kind: 'user',
      dest_id: pbx.users.bob,
      max_channels: 1,
    });
    const a = await brain.admit(out('o1', { userIds: [pbx.users.alice], trunkId: pbx.trunkA }));
    t.match(a, {
      ok: true,
      counters: ['acct:outbound', `user:${pbx.users.alice}`, `trunk:${pbx.trunkA}`],
    });
    t.match(await brain.admit(out('o2', { userIds: [pbx.users.alice], trunkId: pbx.trunkA })), {
      ok: false,
      limit: `user:${pbx.users.alice}`,
      status: 486,
    });
    t.match(await brain.admit(out('o3', { userIds: [pbx.users.bob], trunkId: pbx.trunkA })), {
      ok: true,
    });
    t.match(await brain.admit(out('o4', { userIds: [pbx.users.carol], trunkId: pbx.trunkA })), {
      ok: false,
      limit: `trunk:${pbx.trunkA}`,
    });
    t.match(
      await brain.admit({
        callId: 'i1',
        accountId: pbx.accountId,
        direction: 'inbound',
        didId,
        userIds: [pbx.users.bob],
      }),
      { ok: true },
    );
    t.match(
      await brain.admit({ callId: 'i2', accountId: pbx.accountId, direction: 'inbound', didId }),
      { ok: false, limit: `did:${didId}` },
    );
    t.same(await counters(brain, pbx.accountId), {
      'acct:outbound': { current: 2, limit: 50 },
      [`user:${pbx.users.alice}`]: { current: 1, limit: 1 },
      [`trunk:${pbx.trunkA}`]: { current: 2, limit: 2 },
      [`user:${pbx.users.bob}`]: { current: 2, limit: null },
      'acct:inbound': { current: 1, limit: 50 },
      [`did:${didId}`]: { current: 1, limit: 1 },
    });
    for (const id of ['o1', 'o3', 'i1']) await brain.release({ callId: id });
    t.same(await counters(brain, pbx.accountId), {}, 'every counter is back to zero');
  },
);

t.test('admission: sliding-window call limits count admits inside the window', async (t) => {
  const { ts, pbx, brain, out } = await setup(t);
  const lim = await create(ts.store, 'call_limit', {
    account_id: pbx.accountId,
    scope: 'account',
    direction: 'outbound',
    window_sec: 60,
    max_calls: 2,
  });
  t.match(await brain.admit(out('w1')), { ok: true });
  ts.clock.advance(30_000);
  t.match(await brain.admit(out('w2')), { ok: true });
  await brain.release({ callId: 'w1' });
  t.match(
    await brain.admit(out('w3')),
    { ok: false, limit: `call_limit:${lim}` },
    'releasing does not give back a window slot',
  );
  t.match(
    await brain.admit({ ...out('w4'), direction: 'inbound' }),
    { ok: true },
    'other directions are not limited',
  );
  ts.clock.advance(30_001);
  t.match(await brain.admit(out('w5')), { ok: true }, 'the first admit left the window');
  ts.clock.advance(60_001);
  const userLim = await create(ts.store, 'call_limit', {
    account_id: pbx.accountId,
    scope: 'user',
    scope_id: pbx.users.bob,
    window_sec: 10,
    max_calls: 0,
  });
  t.match(await brain.admit(out('w6', { userIds: [pbx.users.bob] })), {
    ok: false,
    limit: `call_limit:${userLim}`,
  });
});

t.test('admission: reservations expire unless dialog events refresh them', async (t) => {
  const { brain, out, pbx, ts } = await setup(t);
  t.match(await brain.admit(out('t1', { ttlSec: 10 })), { ok: true });
  t.match(await brain.admit(out('t2', { ttlSec: 10 })), { ok: true });
  ts.clock.advance(8_000);
  t.same(await brain.presenceEvent({ type: 'dialog', callId: 't1', state: 'confirmed' }), {
    ok: true,
    known: true,
  });
  ts.clock.advance(8_000);
  t.equal(await brain.admission.sweep(), 1, 't2 expired: its edge went silent');
  t.same(await counters(brain, pbx.accountId), { 'acct:outbound': { current: 1, limit: 50 } });
  t.same(await brain.presenceEvent({ type: 'dialog', callId: 't1', state: 'terminated' }), {
    ok: true,
    known: true,
  });
  t.same(await counters(brain, pbx.accountId), {});
  t.same(await brain.presenceEvent({ type: 'dialog', callId: 't2', state: 'refreshed' }), {
    ok: true,
    known: false,
  });
});

t.test(
  'admission: admitting the same call twice reserves once; reset clears everything',
  async (t) => {
    const { brain, out, pbx } = await setup(t);
    await brain.admit(out('d1'));
    await brain.admit(out('d1'));
    t.same(await counters(brain, pbx.accountId), { 'acct:outbound': { current: 1, limit: 50 } });
    t.same(await brain.cacReset(pbx.accountId), { ok: true, cleared: 1 });
    t.same(await counters(brain, pbx.accountId), {});
    t.match(
      await brain.admit({
        callId: '',
        accountId: pbx.accountId,
        direction: 'sideways',
      } as unknown as AdmitRequest),
      { ok: false, code: 'CTL_ERR_VALIDATION' },
    );
    t.match(await brain.admit({ callId: 'z', accountId: 'acc_nobody', direction: 'inbound' }), {
      ok: false,
      code: 'CTL_ERR_FORBIDDEN',
    });
  },
);

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test(
  'admission: 10,000 concurrent admits with random releases keep counters exact and within limits',
  async (t) => {
    const ts = openTestStore();
    t.teardown(ts.close);
    const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
    const accounts: { id: string; users: string[]; trunk: string }[] = [];
    for (const name of ['one', 'two']) {
      const id = await create(ts.store, 'account', { name, max_out: 300, max_in: 200 });
      const subscribers = Array.from({ length: 100 }, (_, i) => ({
        domain: `${name}.test`,
        username: `u${i}`,
        password: 'password-123',
      }));
      must(await ts.store.importer.importDocument({ account_id: id, subscribers }));
      ts.store.db.prepare('UPDATE sip_user SET max_simultaneous = 3 WHERE account_id = ?').run(id);
      const trunk = await create(ts.store, 'sip_trunk', {
        account_id: id,
        name: 't',
        proxy_host: 'x.test',
        max_channels: 250,
      });
      const users = (
        ts.store.db.prepare('SELECT id FROM sip_user WHERE account_id = ?').all(id) as {
          id: string;
        }[]
      ).map((r) => r.id);
      accounts.push({ id, users, trunk });
    }
    const limits = new Map<string, number>();
    for (const a of accounts) {
      limits.set(`${a.id}|acct:outbound`, 300);
      limits.set(`${a.id}|acct:inbound`, 200);
      limits.set(`${a.id}|trunk:${a.trunk}`, 250);
      for (const u of a.users) limits.set(`${a.id}|user:${u}`, 3);
    }
    const model = new Map<string, number>();
    let overLimit = 0;
    let admitted = 0;
    let released = 0;
    const apply = (accountId: string, keys: readonly string[], delta: 1 | -1) => {
      for (const k of keys) {
        const key = `${accountId}|${k}`;
        const n = (model.get(key) ?? 0) + delta;
        model.set(key, n);
        if (n > (limits.get(key) ?? Infinity) || n < 0) overLimit++;
      }
    };
    const random = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
    const work: Promise<unknown>[] = [];
    const fired: { callId: string; accountId: string }[] = [];
    for (let i = 0; i < 10_000; i++) {
      const a = pick(accounts);
      const outbound = random() < 0.6;
      const req: AdmitRequest = outbound
        ? {
            callId: `call-${i}`,
            accountId: a.id,
            direction: 'outbound',
            userIds: [pick(a.users)],
            trunkId: a.trunk,
          }
        : { callId: `call-${i}`, accountId: a.id, direction: 'inbound', userIds: [pick(a.users)] };
      fired.push({ callId: req.callId, accountId: a.id });
      work.push(
        brain.admit(req).then((d: AdmitDecision) => {
          if (d.ok) {
            admitted++;
            apply(a.id, d.counters, 1);
          }
        }),
      );
      if (random() < 0.45) {
        const victim = pick(fired);
        work.push(
          brain.release({ callId: victim.callId }).then((r) => {
            if (r.released) {
              released++;
              apply(victim.accountId, r.counters, -1);
            }
          }),
        );
      }
    }
    await Promise.all(work);
    t.equal(overLimit, 0, 'no counter ever went above its limit or below zero');
    t.ok(
      admitted > 1000 && admitted < 10_000,
      `some admits were refused at the limits (${admitted} admitted)`,
    );
    t.ok(released > 100, `random releases happened (${released})`);
    const status = await brain.cacStatus();
    let reservations = 0;
    for (const acc of status.accounts) {
      reservations += acc.reservations;
      for (const [key, c] of Object.entries(acc.counters)) {
        t.equal(c.current, model.get(`${acc.accountId}|${key}`), `counter ${key} is exact`);
      }
      const modelKeys = [...model.entries()].filter(
        ([k, n]) => k.startsWith(`${acc.accountId}|`) && n > 0,
      ).length;
      t.equal(Object.keys(acc.counters).length, modelKeys, 'no counter is missing or extra');
    }
    t.equal(reservations, admitted - released, 'reservations = admitted - released');
  },
);
