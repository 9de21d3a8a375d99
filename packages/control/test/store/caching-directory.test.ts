import t from 'tap';
import { CachingDirectory } from '../../src/store/caching-directory.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

t.test('cache: a write through the store is seen by the next decision read', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  t.equal((await ts.store.directory.user(pbx.users.bob))?.dnd, false);
  await ts.store.table('sip_user').update(pbx.users.bob, { dnd: true });
  t.equal((await ts.store.directory.user(pbx.users.bob))?.dnd, true);
});

t.test('cache: a write by another process is seen after the change probe', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  let now = 0;
  let version = 0;
  const cached = new CachingDirectory(ts.store.sqliteDirectory, {
    changedElsewhere: () => version++ > 0 && now >= 1000,
    probeIntervalMs: 1000,
    now: () => now,
  });
  t.equal((await cached.user(pbx.users.carol))?.dnd, false);
  const other = openDatabase({ dataDir: ts.dir });
  other.prepare('UPDATE sip_user SET dnd = 1 WHERE id = ?').run(pbx.users.carol);
  other.close();
  t.equal(
    (await cached.user(pbx.users.carol))?.dnd,
    false,
    'within the probe interval the cached row answers',
  );
  now = 1000;
  t.equal(
    (await cached.user(pbx.users.carol))?.dnd,
    true,
    'after the probe reports a change the cache is dropped',
  );
});

t.test(
  'cache: the store probe notices commits from another connection (PRAGMA data_version)',
  async (t) => {
    const ts = openTestStore();
    t.teardown(ts.close);
    const pbx = await buildPbx(ts.store);
    t.equal((await ts.store.directory.account(pbx.accountId))?.status, 'active');
    const other = openDatabase({ dataDir: ts.dir });
    other.prepare("UPDATE account SET status = 'suspended' WHERE id = ?").run(pbx.accountId);
    other.close();
    await new Promise((r) => setTimeout(r, 300));
    t.equal((await ts.store.directory.account(pbx.accountId))?.status, 'suspended');
  },
);

t.test('cache: the wallet is forgotten after a local credit', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  t.equal((await ts.store.directory.wallet(pbx.accountId))?.balanceMicros, 0);
  await ts.store.records.adjustWallet(pbx.accountId, 42, 'test');
  t.equal((await ts.store.directory.wallet(pbx.accountId))?.balanceMicros, 42);
});
