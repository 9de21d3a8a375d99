// Seeds a benchmark database: 10,000 users with devices and extensions, 1,000 DIDs, 100 outbound
// routes over 10 trunks, and builds a deterministic mix of route requests.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouteRequest } from '../../packages/control/src/brain/brain.js';
import { loadMasterKey } from '../../packages/control/src/store/master-key.js';
import { openDatabase } from '../../packages/control/src/store/sqlite/open-database.js';
import { SqliteConfigStore } from '../../packages/control/src/store/sqlite/sqlite-config-store.js';

export const USERS = 10_000;
export const DIDS = 1_000;
export const ROUTES = 100;
export const DOMAIN = 'bench.switchboard.test';

export interface BenchWorld {
  dir: string;
  store: SqliteConfigStore;
  accountId: string;
  userIds: string[];
  requests: RouteRequest[];
}

function must<T>(r: { ok: true; value: T } | { ok: false; error: Error }): T {
  if (!r.ok) throw r.error;
  return r.value;
}

export function openStore(dir: string): SqliteConfigStore {
  return new SqliteConfigStore({
    db: openDatabase({ dataDir: dir }),
    masterKey: must(loadMasterKey(dir, {})),
  });
}

export async function seedWorld(): Promise<BenchWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'sb-bench-'));
  const store = openStore(dir);
  const accountId = String(must(await store.table('account').create({ name: 'Bench' })).row['id']);
  const subscribers = Array.from({ length: USERS }, (_, i) => ({
    domain: DOMAIN,
    username: `u${i}`,
    password: `password-${i}`,
    extension: String(10_000 + i),
  }));
  must(await store.importer.importDocument({ account_id: accountId, subscribers }));
  const userIds = (
    store.db.prepare('SELECT id FROM sip_user ORDER BY username').all() as { id: string }[]
  ).map((r) => r.id);
  const trunks: string[] = [];
  for (let i = 0; i < 10; i++) {
    trunks.push(
      String(
        must(
          await store
            .table('sip_trunk')
            .create({ account_id: accountId, name: `t${i}`, proxy_host: `carrier${i}.test` }),
        ).row['id'],
      ),
    );
  }
  const dids = Array.from({ length: DIDS }, (_, i) => ({
    number: String(15550000000 + i),
    dest_kind: 'user',
    dest_id: userIds[(i * 7) % USERS],
  }));
  const routes = Array.from({ length: ROUTES }, (_, i) => ({
    name: `r${i}`,
    prefix: i === 0 ? '' : String(i + 9).slice(0, 2) + (i > 50 ? String(i % 10) : ''),
    priority: i,
    trunks: [
      { trunk_id: trunks[i % 10] },
      { trunk_id: trunks[(i + 1) % 10], transform_json: { add_plus: true } },
    ],
  }));
  must(
    await store.importer.importDocument({ account_id: accountId, dids, outbound_routes: routes }),
  );
  const requests: RouteRequest[] = [];
  for (let i = 0; i < 3000; i++) {
    const caller = { accountId, userId: userIds[(i * 13) % USERS] ?? '' };
    const from = { user: `u${(i * 13) % USERS}`, host: DOMAIN };
    if (i % 3 === 0)
      requests.push({
        callId: `in-${i}`,
        to: { user: String(15550000000 + ((i * 31) % DIDS)), host: 'sbc' },
        from: { user: '447700900123', host: 'carrier' },
      });
    else if (i % 3 === 1)
      requests.push({
        callId: `int-${i}`,
        to: { user: String(10_000 + ((i * 17) % USERS)), host: DOMAIN },
        from,
        caller,
      });
    else
      requests.push({
        callId: `out-${i}`,
        to: { user: `+${20 + (i % 79)}71234${String(i).padStart(4, '0')}`, host: DOMAIN },
        from,
        caller,
      });
  }
  return { dir, store, accountId, userIds, requests };
}
