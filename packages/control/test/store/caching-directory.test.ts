import t from 'tap';
import { CachingDirectory } from '../../src/store/caching-directory.js';
import type { Directory } from '../../src/store/directory.js';
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

/** Polls `check` every 20 ms; the deadline only stops a broken test from hanging. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`not before the deadline: ${what}`);
}

t.test(
  'cache: CDR batches the worker thread commits keep the decision cache; a commit elsewhere still drops it',
  async (t) => {
    const ts = openTestStore();
    t.teardown(ts.close);
    const pbx = await buildPbx(ts.store);
    const records = ts.store.records;
    await until(() => records.changedElsewhere() !== undefined, 'the CDR worker watches');
    const inner = ts.store.sqliteDirectory;
    const read = inner.user.bind(inner);
    let loads = 0;
    inner.user = (id: string) => {
      loads++;
      return read(id);
    };
    t.equal((await ts.store.directory.user(pbx.users.bob))?.dnd, false);
    for (let i = 0; i < 3; i++) {
      await records.writeBatch({
        inserts: [],
        updates: [],
        events: [{ accountId: pbx.accountId, callId: `c-${i}`, at: 1, kind: 'routed' }],
      });
      // past the probe interval (250 ms): the next read probes
      await new Promise((r) => setTimeout(r, 300));
      await ts.store.directory.user(pbx.users.bob);
    }
    t.equal(loads, 1, 'the worker commits did not drop the cache');
    const other = openDatabase({ dataDir: ts.dir });
    other.prepare('UPDATE sip_user SET dnd = 1 WHERE id = ?').run(pbx.users.bob);
    other.close();
    await until(
      async () => (await ts.store.directory.user(pbx.users.bob))?.dnd === true,
      'the commit by another connection is seen',
    );
    t.equal(loads, 2, 'read again once, after the change');
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

/** A directory answering every read with its arguments, counting the reads that reach it. */
function countingDirectory(): { directory: Directory; loads: string[]; fail: Set<string> } {
  const loads: string[] = [];
  const fail = new Set<string>();
  const read =
    (name: string) =>
    (...args: string[]) => {
      const key = `${name}(${args.join(',')})`;
      loads.push(key);
      return fail.has(key) ? Promise.reject(new Error(key)) : Promise.resolve({ key });
    };
  const directory = new Proxy({}, { get: (_, name) => read(String(name)) });
  return { directory: directory as unknown as Directory, loads, fail };
}

t.test('cache: reads are kept per method and arguments; forget drops exactly one', async (t) => {
  const { directory, loads } = countingDirectory();
  const cached = new CachingDirectory(directory);
  const reads = async () => {
    await cached.deviceCredentials('1001', 'a.example');
    await cached.deviceCredentials('1001', 'b.example');
    await cached.deviceCredentials('1002', 'a.example');
    await cached.extension('acc1', '1001');
    await cached.wallet('acc1');
    await cached.account('acc1');
  };
  await reads();
  await reads();
  t.equal(loads.length, 6, 'the second round is answered from memory');
  cached.forget('deviceCredentials', '1001', 'a.example');
  cached.forget('wallet', 'acc1');
  cached.forget('extension', 'acc1', '1001');
  await reads();
  t.same(loads.slice(6), [
    'deviceCredentials(1001,a.example)',
    'extension(acc1,1001)',
    'wallet(acc1)',
  ]);
});

t.test('cache: a failed read is not remembered; a full cache starts over', async (t) => {
  const { directory, loads, fail } = countingDirectory();
  const cached = new CachingDirectory(directory, { maxEntries: 2 });
  fail.add('user(u1)');
  await t.rejects(cached.user('u1'));
  fail.clear();
  t.same(await cached.user('u1'), { key: 'user(u1)' }, 'read again after the failure');
  await cached.user('u2');
  await cached.user('u3'); // a third entry: the cache is dropped first
  await cached.user('u3');
  await cached.user('u1');
  t.same(loads, ['user(u1)', 'user(u1)', 'user(u2)', 'user(u3)', 'user(u1)']);
});

t.test('cache: a clock set back still probes for changes elsewhere', async (t) => {
  const { directory, loads } = countingDirectory();
  let now = 10_000;
  let changed = false;
  const cached = new CachingDirectory(directory, {
    changedElsewhere: () => changed,
    probeIntervalMs: 1000,
    now: () => now,
  });
  await cached.user('u1');
  changed = true;
  now = 5_000; // the wall clock stepped back
  await cached.user('u1');
  t.equal(loads.length, 2, 'the change was noticed without waiting for the old deadline');
});
