import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CallRecorder } from '../../src/brain/call-recorder.js';
import { loadMasterKey } from '../../src/store/master-key.js';
import type { CdrRow } from '../../src/store/records-store.js';
import { CdrWorkerWriter } from '../../src/store/sqlite/cdr-worker-writer.js';
import { openDatabase } from '../../src/store/sqlite/open-database.js';
import type { WireRecordsBatch } from '../../src/store/sqlite/records-batch.js';
import { SqliteConfigStore } from '../../src/store/sqlite/sqlite-config-store.js';
import { newId } from '../../src/util/ids.js';
import { ManualWallClock } from '../../src/util/wall-clock.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

function cdr(accountId: string, callId: string, id = newId('call')): CdrRow {
  return {
    id,
    account_id: accountId,
    call_id: callId,
    direction: 'internal',
    from_number: 'alice',
    to_number: 'bob',
    user_id: null,
    did_id: null,
    trunk_id: null,
    started_at: 100,
    answered_at: 101,
    ended_at: 130,
    billsec: 29,
    disposition: 'answered',
    hangup_cause: null,
    cost_micros: 0,
    rate_id: null,
  };
}

t.test(
  'CDR worker: rows the recorder writes through the worker are readable through the store after flush',
  async (t) => {
    const ts = openTestStore();
    t.teardown(() => ts.close());
    const pbx = await buildPbx(ts.store);
    const records = ts.store.records;
    t.equal(records.writerStats()?.fallback, false, 'a file database gets a worker');
    const recorder = new CallRecorder(records, ts.clock, undefined, undefined, {
      flushIntervalMs: 5,
    });
    for (let i = 0; i < 3; i++) {
      recorder.started({
        callId: `w-${i}`,
        accountId: pbx.accountId,
        direction: 'internal',
        fromNumber: 'alice',
        toNumber: 'bob',
      });
      recorder.event(pbx.accountId, `w-${i}`, 'routed', 'proxy');
    }
    await recorder.flush();
    t.match(await records.cdrByCallId('w-2'), { disposition: 'in_progress', to_number: 'bob' });
    const ended = await recorder.ended('w-1', {
      disposition: 'answered',
      answeredAt: 5,
      endedAt: 65,
    });
    t.match(ended, { billsec: 60 });
    t.match(await records.cdrByCallId('w-1'), { disposition: 'answered', billsec: 60 });
    t.same(
      (await records.events('w-1')).map((e) => e.kind),
      ['routed', 'ended'],
      'events keep their order',
    );
    const stats = records.writerStats();
    t.equal(stats?.written, 2, 'both batches were committed by the worker');
    t.equal(stats?.failed, 0);
    t.equal(stats?.pending, 0);
  },
);

t.test('CDR worker: closing the store writes every batch still pending', async (t) => {
  const ts = openTestStore();
  t.teardown(() => ts.close());
  const pbx = await buildPbx(ts.store);
  const writes: Promise<void>[] = [];
  for (let b = 0; b < 20; b++) {
    const inserts = Array.from({ length: 50 }, (_, i) => cdr(pbx.accountId, `c-${b}-${i}`));
    writes.push(ts.store.records.writeBatch({ inserts, updates: [], events: [] }));
  }
  t.ok((ts.store.records.writerStats()?.pending ?? 0) > 0, 'batches are in flight at close');
  await ts.store.closeAsync();
  await Promise.all(writes);
  const db = openDatabase({ dataDir: ts.dir });
  t.teardown(() => db.close());
  const n = db.prepare('SELECT count(*) AS n FROM call_cdr').get() as { n: number };
  t.equal(n.n, 1000, 'all 1000 rows are in the file');
});

t.test(
  'CDR worker: a failed batch rejects, is counted and reported; later batches still go through',
  async (t) => {
    const dir = openTestStore();
    const errors: unknown[] = [];
    // The same file again, with an error reporter (the test store's own worker stays idle).
    const key = loadMasterKey(dir.dir, {});
    if (!key.ok) throw key.error;
    const store = new SqliteConfigStore({
      db: openDatabase({ dataDir: dir.dir }),
      masterKey: key.value,
      clock: new ManualWallClock(),
      records: { onWriteError: (err) => errors.push(err) },
    });
    t.teardown(async () => {
      await store.closeAsync();
      dir.close();
    });
    const pbx = await buildPbx(store);
    const row = cdr(pbx.accountId, 'dup');
    await store.records.writeBatch({ inserts: [row], updates: [], events: [] });
    await t.rejects(
      store.records.writeBatch({ inserts: [row], updates: [], events: [] }),
      { code: 'CTL_ERR_INTERNAL', message: /CDR batch not written: .*UNIQUE/ },
      'the duplicate id fails its transaction',
    );
    t.equal(errors.length, 1, 'the failure is reported');
    t.match(store.records.writerStats(), { failed: 1, written: 1, fallback: false });
    await store.records.writeBatch({
      inserts: [cdr(pbx.accountId, 'next')],
      updates: [],
      events: [],
    });
    t.match(await store.records.cdrByCallId('next'), { disposition: 'answered' });
  },
);

t.test('CDR worker: an in-memory database writes batches on the calling thread', async (t) => {
  const key = loadMasterKey(':memory:', { SWITCHBOARD_MASTER_KEY: 'ab'.repeat(32) });
  if (!key.ok) throw key.error;
  const store = new SqliteConfigStore({
    db: openDatabase({ dataDir: ':memory:' }),
    masterKey: key.value,
  });
  t.teardown(() => store.close());
  t.equal(store.records.writerStats(), undefined, 'no worker for :memory:');
  const pbx = await buildPbx(store);
  void store.records.writeBatch({ inserts: [cdr(pbx.accountId, 'mem')], updates: [], events: [] });
  t.match(await store.records.cdrByCallId('mem'), { call_id: 'mem' }, 'written before returning');
});

t.test('CDR worker: a worker that cannot open the database hands its batches back', async (t) => {
  const ts = openTestStore();
  t.teardown(() => ts.close());
  const empty = join(ts.dir, 'empty.db');
  writeFileSync(empty, '');
  const here: WireRecordsBatch[] = [];
  const errors: unknown[] = [];
  // The worker opens an empty file: preparing its statements fails (no call_cdr table).
  const writer = new CdrWorkerWriter({
    file: empty,
    fallback: (b) => here.push(b),
    onError: (e) => errors.push(e),
  });
  t.teardown(() => writer.close());
  const batch = {
    inserts: [],
    updates: [],
    events: [{ accountId: 'a', callId: 'c', at: 1, kind: 'x' }],
  };
  await writer.write(batch);
  await writer.write(batch);
  t.equal(here.length, 2, 'both batches were written on the calling thread');
  t.match(here[0]?.events[0], { kind: 'x', id: /^cev_/ }, 'with the ids given on the main thread');
  t.equal(writer.stats().fallback, true);
  t.equal(writer.stats().failed, 0, 'no batch was lost');
  t.ok(errors.length >= 1, 'the worker failure is reported');
});
