import type { SqliteConfigStore } from '../../src/store/sqlite/sqlite-config-store.js';
import { create } from './test-store.js';

export const PASSWORD = 'correct-horse-1';

/** A small PBX: one account, a domain, users with devices, DIDs, a trunk and outbound routes. */
export interface PbxFixture {
  accountId: string;
  domainId: string;
  domain: string;
  users: Record<'alice' | 'bob' | 'carol' | 'dave', string>;
  devices: Record<'aliceDesk' | 'aliceMobile' | 'bobDesk' | 'carolDesk' | 'daveDesk', string>;
  voicemailId: string;
  trunkA: string;
  trunkB: string;
  routeUk: string;
  routeDefault: string;
}

export async function buildPbx(
  store: SqliteConfigStore,
  domain = 'pbx.example.com',
): Promise<PbxFixture> {
  const accountId = await create(store, 'account', {
    name: 'Acme',
    timezone: 'Europe/London',
    max_in: 50,
    max_out: 50,
  });
  const domainId = await create(store, 'sip_domain', { account_id: accountId, domain });
  const voicemailId = await create(store, 'voicemail', {
    account_id: accountId,
    mailbox: '100',
    pin: '1234',
  });
  const user = (username: string, extra: Record<string, unknown> = {}) =>
    create(store, 'sip_user', {
      account_id: accountId,
      domain_id: domainId,
      username,
      caller_id_number: '442070000001',
      ...extra,
    });
  const users = {
    alice: await user('alice', { voicemail_id: voicemailId }),
    bob: await user('bob'),
    carol: await user('carol'),
    dave: await user('dave'),
  };
  const device = (userId: string, auth: string, extra: Record<string, unknown> = {}) =>
    create(store, 'sip_device', {
      account_id: accountId,
      user_id: userId,
      auth_username: auth,
      password: PASSWORD,
      ...extra,
    });
  const devices = {
    aliceDesk: await device(users.alice, 'alice', { ring_order: 1 }),
    aliceMobile: await device(users.alice, 'alice-mobile', { ring_order: 2 }),
    bobDesk: await device(users.bob, 'bob'),
    carolDesk: await device(users.carol, 'carol'),
    daveDesk: await device(users.dave, 'dave'),
  };
  const trunkA = await create(store, 'sip_trunk', {
    account_id: accountId,
    name: 'carrier A',
    proxy_host: 'sip.carrier-a.test',
    auth_username: 'acme',
    auth_password: 's3cret',
  });
  const trunkB = await create(store, 'sip_trunk', {
    account_id: accountId,
    name: 'carrier B',
    proxy_host: 'sip.carrier-b.test',
    caller_id: '442079999999',
  });
  const routeUk = await create(store, 'outbound_route', {
    account_id: accountId,
    name: 'UK',
    prefix: '44',
    trunks: [
      { trunk_id: trunkA },
      { trunk_id: trunkB, transform_json: { strip: 2, prepend: '0' } },
    ],
  });
  const routeDefault = await create(store, 'outbound_route', {
    account_id: accountId,
    name: 'world',
    prefix: '',
    trunks: [{ trunk_id: trunkB, transform_json: { add_plus: true } }],
  });
  return {
    accountId,
    domainId,
    domain,
    users,
    devices,
    voicemailId,
    trunkA,
    trunkB,
    routeUk,
    routeDefault,
  };
}
