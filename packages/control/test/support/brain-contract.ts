import type { Test } from 'tap';
import { computeDigestResponse, computeHa1 } from '@switchboard/sip-stack';
import type { AuthRequest, Brain, RouteRequest } from '../../src/brain/brain.js';
import { LocalBrain } from '../../src/brain/local-brain.js';
import { PASSWORD, buildPbx } from './pbx-fixture.js';
import type { PbxFixture } from './pbx-fixture.js';
import { create, openTestStore } from './test-store.js';
import type { TestStore } from './test-store.js';

export interface CarrierHarness {
  brain: Brain;
  close(): Promise<void>;
}

/** Builds the carrier under test around an in-process brain over a seeded store. */
export type CarrierFactory = (local: LocalBrain) => Promise<CarrierHarness>;

interface World {
  ts: TestStore;
  pbx: PbxFixture;
  brain: Brain;
  did: string;
}

async function world(t: Test, factory: CarrierFactory): Promise<World> {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  const did = '442030000777';
  await create(ts.store, 'did', {
    account_id: pbx.accountId,
    number: did,
    dest_kind: 'user',
    dest_id: pbx.users.bob,
    max_channels: 1,
  });
  const carrier = await factory(new LocalBrain({ directory: ts.store.directory, clock: ts.clock }));
  t.teardown(async () => {
    await carrier.close();
    await ts.close();
  });
  return { ts, pbx, brain: carrier.brain, did };
}

function digest(username: string, realm: string, password: string): AuthRequest {
  const base = {
    method: 'INVITE',
    uri: 'sip:bob@example.com',
    nonce: 'n0nce',
    cnonce: 'cn',
    nc: '00000001',
    qop: 'auth' as const,
  };
  const response = computeDigestResponse({
    algorithm: 'SHA-256',
    ha1: computeHa1('SHA-256', username, realm, password),
    ...base,
  });
  return { ...base, username, realm, response, algorithm: 'SHA-256' };
}

/**
 * The one contract every carrier of the Brain interface passes (DESIGN.md: "Both carriers pass the
 * same contract tests"). Values are compared whole, so a carrier cannot add, drop or reshape fields.
 */
export function brainContract(t: Test, carrier: string, factory: CarrierFactory): void {
  t.test(`${carrier}: authenticate accepts the right digest and refuses the rest`, async (t) => {
    const { brain, pbx } = await world(t, factory);
    t.same(await brain.authenticate(digest('alice', pbx.domain, PASSWORD)), {
      ok: true,
      accountId: pbx.accountId,
      userId: pbx.users.alice,
      deviceId: pbx.devices.aliceDesk,
    });
    t.same(await brain.authenticate(digest('alice', pbx.domain, 'nope')), {
      ok: false,
      code: 'CTL_ERR_AUTH_FAILED',
      reason: 'wrong credentials',
      status: 401,
    });
    t.same(await brain.authenticate(digest('ghost', pbx.domain, PASSWORD)), {
      ok: false,
      code: 'CTL_ERR_UNKNOWN_DEVICE',
      reason: 'unknown device',
      status: 403,
    });
    t.match(await brain.authenticate({ method: 'INVITE' } as AuthRequest), {
      ok: false,
      code: 'CTL_ERR_VALIDATION',
      status: 400,
    });
  });

  t.test(`${carrier}: route returns the same directives`, async (t) => {
    const { brain, pbx, did } = await world(t, factory);
    const inbound = await brain.route({
      callId: 'r1',
      to: { user: `+${did}`, host: 'sbc' },
      from: { user: '447700900123', host: 'carrier' },
    });
    t.same(inbound, {
      direction: 'inbound',
      accountId: pbx.accountId,
      target: { kind: 'user', id: pbx.users.bob },
      didId: inbound.didId,
      directive: {
        kind: 'proxy',
        accountId: pbx.accountId,
        onBusy: null,
        onNoAnswer: null,
        fork: {
          strategy: 'parallel',
          ringTimeoutSec: 30,
          source: { kind: 'user', id: pbx.users.bob },
          legs: [
            {
              userId: pbx.users.bob,
              deviceId: pbx.devices.bobDesk,
              aor: `sip:bob@${pbx.domain}`,
              step: 0,
              delaySec: 0,
              timeoutSec: null,
              webrtc: false,
            },
          ],
        },
      },
    });
    const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
    const out = await brain.route({
      callId: 'r2',
      to: { user: '442071234567', host: pbx.domain },
      from: { user: 'alice', host: pbx.domain },
      caller,
    });
    t.match(out, {
      direction: 'outbound',
      directive: {
        kind: 'outbound',
        routeId: pbx.routeUk,
        trunks: [{ trunkId: pbx.trunkA }, { trunkId: pbx.trunkB, number: '02071234567' }],
      },
    });
    t.same(
      await brain.route({
        callId: 'r3',
        to: { user: 'x', host: 'h' },
        from: { user: 'y', host: 'h' },
      }),
      {
        direction: null,
        accountId: null,
        target: null,
        directive: {
          kind: 'reject',
          status: 407,
          reason: 'Proxy Authentication Required',
          code: 'CTL_ERR_UNAUTHORIZED',
        },
      },
    );
    const bad = await brain.route({ callId: 'r4' } as RouteRequest);
    t.match(
      bad.directive,
      { kind: 'reject', status: 400, code: 'CTL_ERR_VALIDATION' },
      'a malformed request is a refusal',
    );
  });

  t.test(`${carrier}: admit, release and cac status keep the same counters`, async (t) => {
    const { brain, pbx, ts } = await world(t, factory);
    const didId = String((ts.store.db.prepare('SELECT id FROM did').get() as { id: string }).id);
    const admit = {
      callId: 'a1',
      accountId: pbx.accountId,
      direction: 'inbound' as const,
      didId,
      userIds: [pbx.users.bob],
    };
    t.match(await brain.admit(admit), {
      ok: true,
      callId: 'a1',
      counters: ['acct:inbound', `user:${pbx.users.bob}`, `did:${didId}`],
    });
    t.same(await brain.admit({ ...admit, callId: 'a2' }), {
      ok: false,
      code: 'CTL_ERR_LIMIT_REACHED',
      limit: `did:${didId}`,
      reason: `did:${didId} is at its limit of 1`,
      status: 503,
    });
    t.same(await brain.cacStatus(pbx.accountId), {
      accounts: [
        {
          accountId: pbx.accountId,
          reservations: 1,
          windows: {},
          counters: {
            'acct:inbound': { current: 1, limit: 50 },
            [`user:${pbx.users.bob}`]: { current: 1, limit: null },
            [`did:${didId}`]: { current: 1, limit: 1 },
          },
        },
      ],
    });
    t.same(await brain.presenceEvent({ type: 'dialog', callId: 'a1', state: 'confirmed' }), {
      ok: true,
      known: true,
    });
    t.same(await brain.release({ callId: 'a1' }), {
      ok: true,
      released: true,
      counters: ['acct:inbound', `user:${pbx.users.bob}`, `did:${didId}`],
    });
    t.same(await brain.release({ callId: 'a1' }), { ok: true, released: false, counters: [] });
    t.same(await brain.admit({ ...admit, callId: 'a3' }), {
      ok: true,
      callId: 'a3',
      counters: ['acct:inbound', `user:${pbx.users.bob}`, `did:${didId}`],
      expiresAt: ts.clock.nowMs() + 300_000,
    });
    t.same(await brain.cacReset(), { ok: true, cleared: 1 });
    t.same(await brain.cacStatus(pbx.accountId), {
      accounts: [{ accountId: pbx.accountId, reservations: 0, windows: {}, counters: {} }],
    });
  });

  t.test(`${carrier}: presence events are acknowledged`, async (t) => {
    const { brain, pbx } = await world(t, factory);
    t.same(
      await brain.presenceEvent({
        type: 'registered',
        accountId: pbx.accountId,
        userId: pbx.users.bob,
        deviceId: pbx.devices.bobDesk,
      }),
      { ok: true, known: true },
    );
    // reachability of a registered device's contact (the edge's OPTIONS qualify)
    for (const type of ['unreachable', 'reachable'] as const) {
      t.same(
        await brain.presenceEvent({
          type,
          accountId: pbx.accountId,
          userId: pbx.users.bob,
          deviceId: pbx.devices.bobDesk,
        }),
        { ok: true, known: true },
        type,
      );
    }
    t.same(
      await brain.presenceEvent({ type: 'dialog', callId: 'never-admitted', state: 'refreshed' }),
      { ok: true, known: false },
    );
  });
}
