import t from 'tap';
import type { Test } from 'tap';
import { CallRecorder, type CallWebhookEvent } from '../../src/brain/call-recorder.js';
import type { RecordsBatch, RecordsStore } from '../../src/store/records-store.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

/** The SQLite records store, with every batch handed to it kept (and optionally failing). */
function countingStore(inner: RecordsStore, fail?: { next: boolean }) {
  const batches: RecordsBatch[] = [];
  const store = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'writeBatch') {
        return (batch: RecordsBatch) => {
          batches.push({
            inserts: batch.inserts.map((r) => ({ ...r })),
            updates: batch.updates.map((r) => ({ ...r })),
            events: [...batch.events],
          });
          if (fail?.next === true) {
            fail.next = false;
            return Promise.reject(new Error('disk full'));
          }
          return target.writeBatch(batch);
        };
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { store, batches };
}

async function setup(t: Test, options: { flushIntervalMs?: number; maxBatch?: number } = {}) {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  const fail = { next: false };
  const { store, batches } = countingStore(ts.store.records, fail);
  const errors: unknown[] = [];
  const webhooks: [CallWebhookEvent, Record<string, unknown>][] = [];
  const recorder = new CallRecorder(
    store,
    ts.clock,
    (event, _account, payload) => webhooks.push([event, payload]),
    (err) => errors.push(err),
    { flushIntervalMs: options.flushIntervalMs ?? 60_000, maxBatch: options.maxBatch ?? 512 },
  );
  t.teardown(async () => {
    await recorder.flush().catch(() => undefined);
    await ts.close();
  });
  const start = (callId: string) =>
    recorder.started({
      callId,
      accountId: pbx.accountId,
      direction: 'internal',
      fromNumber: 'alice',
      toNumber: 'bob',
      userId: pbx.users.alice,
    });
  return { ts, pbx, recorder, batches, errors, webhooks, fail, start };
}

t.test('recorder: CDRs and events of many calls are written in one batch', async (t) => {
  const { ts, pbx, recorder, batches, start } = await setup(t);
  start('lead');
  t.equal(batches.length, 0, 'nothing is written on the routing path');
  await new Promise((r) => setTimeout(r, 5));
  t.equal(batches.length, 1, 'a quiet recorder writes on the next tick');
  for (let i = 0; i < 5; i++) {
    start(`b-${i}`);
    recorder.event(pbx.accountId, `b-${i}`, 'routed', 'proxy');
  }
  await new Promise((r) => setTimeout(r, 5));
  t.equal(batches.length, 1, 'within the interval after a write, rows wait');
  t.equal(await ts.store.records.cdrByCallId('b-0'), undefined);
  await recorder.flush();
  t.equal(batches.length, 2, 'then go out in one batch, one transaction');
  t.equal(batches[1]?.inserts.length, 5);
  t.equal(batches[1]?.events.length, 5);
  t.match(await ts.store.records.cdrByCallId('b-4'), {
    disposition: 'in_progress',
    to_number: 'bob',
  });
});

t.test(
  'recorder: a batch is written at maxBatch rows without waiting for the interval',
  async (t) => {
    const { pbx, recorder, batches, start } = await setup(t, { maxBatch: 4 });
    start('m-0');
    await recorder.flush();
    batches.length = 0;
    start('m-1');
    start('m-2');
    recorder.event(pbx.accountId, 'm-1', 'routed');
    await new Promise((r) => setImmediate(r));
    t.equal(batches.length, 0);
    start('m-3');
    await new Promise((r) => setImmediate(r));
    t.equal(batches.length, 1, 'the fourth row triggers the write');
    t.equal(batches[0]?.inserts.length, 3);
  },
);

t.test('recorder: a call that ends before its row is written is inserted complete', async (t) => {
  const { ts, recorder, batches, start, webhooks } = await setup(t, { flushIntervalMs: 5 });
  start('short-1');
  const end = { disposition: 'no_answer' as const, endedAt: 1000, hangupCause: 'sip 480' };
  const row = await recorder.ended('short-1', end);
  t.match(row, { disposition: 'no_answer', hangup_cause: 'sip 480', ended_at: 1000 });
  t.equal(batches.length, 1, 'ended resolves once the batch is durable');
  t.equal(batches[0]?.inserts.length, 1);
  t.equal(batches[0]?.updates.length, 0, 'no separate update');
  t.match(batches[0]?.inserts[0], { call_id: 'short-1', disposition: 'no_answer' });
  t.match(await ts.store.records.cdrByCallId('short-1'), {
    disposition: 'no_answer',
    hangup_cause: 'sip 480',
  });
  t.same(
    (await ts.store.records.events('short-1')).map((e) => e.kind),
    ['ended'],
  );
  t.same(
    webhooks.map(([e]) => e),
    ['call.started', 'call.ended'],
  );
  t.same(webhooks[1]?.[1], { ...row }, 'call.ended carries the stored row');
});

t.test(
  'recorder: a call that ends after its row was written is completed by an update',
  async (t) => {
    const { ts, recorder, batches, start } = await setup(t, { flushIntervalMs: 5 });
    start('long-1');
    await recorder.flush();
    ts.clock.advance(30_000);
    const startedAt = (await ts.store.records.cdrByCallId('long-1'))?.started_at ?? 0;
    const row = await recorder.ended('long-1', {
      disposition: 'answered',
      answeredAt: startedAt + 2,
      endedAt: startedAt + 30,
      hangupCause: 'bye',
    });
    t.equal(batches.length, 2);
    t.equal(batches[1]?.inserts.length, 0);
    t.equal(batches[1]?.updates.length, 1);
    t.same(await ts.store.records.cdrByCallId('long-1'), row, 'the stored row is the returned one');
    t.match(row, { billsec: 28, disposition: 'answered', hangup_cause: 'bye' });
    t.same(
      await recorder.ended('long-1', { disposition: 'failed' }),
      row,
      'a second end changes nothing',
    );
  },
);

t.test(
  'recorder: a failed batch is reported and rejects the ends that waited for it',
  async (t) => {
    const { recorder, start, errors, fail } = await setup(t, { flushIntervalMs: 5 });
    start('f-1');
    fail.next = true;
    await t.rejects(recorder.ended('f-1', { disposition: 'failed' }), /disk full/);
    t.equal(errors.length, 1, 'the write error goes to onError');
    start('f-2');
    t.match(await recorder.ended('f-2', { disposition: 'failed' }), { disposition: 'failed' });
  },
);
