import t from 'tap';
import { buildPbx } from '../support/pbx-fixture.js';
import { openTestStore } from '../support/test-store.js';

const count = (db: { prepare(sql: string): { get(): unknown } }) =>
  (db.prepare('SELECT count(*) AS n FROM webhook_delivery').get() as { n: number }).n;

t.test('webhook queue: subscriptions are cached and a webhook write is seen at once', async (t) => {
  const ts = openTestStore();
  t.teardown(() => ts.close());
  const pbx = await buildPbx(ts.store);
  const q = ts.store.webhooks;
  t.equal(q.wants(pbx.accountId, 'call.ended'), false);
  t.equal(await q.enqueue(pbx.accountId, 'call.ended', '{}', 100), 0, 'no webhook, no delivery');
  const hook = await ts.store.table('webhook').create({
    account_id: pbx.accountId,
    url: 'https://hooks.example.com/x',
    events: 'call.ended',
  });
  t.equal(hook.ok, true);
  t.equal(q.wants(pbx.accountId, 'call.ended'), true, 'the write dropped the cached answer');
  t.equal(q.wants(pbx.accountId, 'call.started'), false, 'only subscribed events');
  t.equal(await q.enqueue(pbx.accountId, 'call.ended', '{"a":1}', 100), 1);
  t.equal(await q.enqueue(pbx.accountId, 'call.ended', '{"a":2}', 100), 1);
  t.equal(count(ts.store.db), 0, 'deliveries of one tick are queued');
  await new Promise((r) => setImmediate(r));
  t.equal(count(ts.store.db), 2, 'and written together right after it');
});

t.test('webhook queue: due() sees deliveries queued in the same tick', async (t) => {
  const ts = openTestStore();
  t.teardown(() => ts.close());
  const pbx = await buildPbx(ts.store);
  await ts.store.table('webhook').create({
    account_id: pbx.accountId,
    url: 'https://hooks.example.com/y',
    events: 'call.started',
  });
  await ts.store.webhooks.enqueue(pbx.accountId, 'call.started', '{}', 100);
  const due = await ts.store.webhooks.due(100, 10);
  t.equal(due.length, 1);
  t.equal(due[0]?.url, 'https://hooks.example.com/y');
});

t.test('webhook queue: closing the store writes queued deliveries', async (t) => {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  await ts.store.table('webhook').create({
    account_id: pbx.accountId,
    url: 'https://hooks.example.com/z',
    events: 'call.ended',
  });
  await ts.store.webhooks.enqueue(pbx.accountId, 'call.ended', '{}', 100);
  const db = ts.store.db;
  const { default: Database } = await import('better-sqlite3');
  const file = db.name;
  ts.store.close();
  const reopened = new Database(file, { readonly: true });
  t.teardown(async () => {
    reopened.close();
    await ts.close();
  });
  t.equal(count(reopened), 1);
});
