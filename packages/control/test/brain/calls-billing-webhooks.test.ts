import t from 'tap';
import type { Test } from 'tap';
import { createHmac } from 'node:crypto';
import { CallRecorder } from '../../src/brain/call-recorder.js';
import { LocalBrain } from '../../src/brain/local-brain.js';
import { priceCall } from '../../src/brain/rate-engine.js';
import {
  MAX_ATTEMPTS,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  WebhookDispatcher,
} from '../../src/brain/webhook-dispatcher.js';
import { createHttpApp } from '../../src/server/http-app.js';
import { buildPbx } from '../support/pbx-fixture.js';
import { create, openTestStore } from '../support/test-store.js';

async function setup(t: Test, statuses: number[] = []) {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  const sent: { url: string; body: string; headers: Record<string, string> }[] = [];
  const send = (url: string, body: string, headers: Record<string, string>) => {
    sent.push({ url, body, headers });
    return Promise.resolve(statuses.shift() ?? 200);
  };
  const webhooks = new WebhookDispatcher({
    queue: ts.store.webhooks,
    secrets: ts.store.secrets,
    clock: ts.clock,
    send,
  });
  const recorder = new CallRecorder(ts.store.records, ts.clock, webhooks.listener);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock, recorder });
  t.teardown(async () => {
    await brain.close();
    await ts.close();
  });
  return { ts, pbx, brain, webhooks, sent, recorder };
}

t.test('rating: connect fee plus per-minute price over billing increments', (t) => {
  const rate = {
    id: 'rate_x',
    prefix: '44',
    pricePerMinMicros: 60_000,
    connectFeeMicros: 5_000,
    initialIncrementSec: 30,
    incrementSec: 6,
  };
  t.equal(priceCall(rate, 0), 0, 'unanswered calls cost nothing');
  t.equal(priceCall(rate, 1), 5_000 + 30_000, 'the first increment is billed whole');
  t.equal(priceCall(rate, 31), 5_000 + 36_000, 'then whole 6 s increments');
  t.equal(priceCall(undefined, 100), 0);
  t.end();
});

t.test(
  'calls: a CDR is written at route time, completed, priced and debited at release',
  async (t) => {
    const { ts, pbx, brain, recorder } = await setup(t);
    await create(ts.store, 'rate', {
      account_id: pbx.accountId,
      prefix: '44',
      price_per_min_micros: 10_000,
    });
    await create(ts.store, 'rate', {
      account_id: pbx.accountId,
      prefix: '4420',
      price_per_min_micros: 20_000,
      initial_increment_sec: 1,
      increment_sec: 1,
    });
    await ts.store.records.adjustWallet(pbx.accountId, 1_000_000, 'top-up');
    const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
    const start = ts.clock.nowMs() / 1000;
    const d = await brain.route({
      callId: 'out-1',
      to: { user: '442071234567', host: 'h' },
      from: { user: 'alice', host: 'h' },
      caller,
    });
    t.equal(d.directive.kind, 'outbound');
    t.match(
      await brain.admit({
        callId: 'out-1',
        accountId: pbx.accountId,
        direction: 'outbound',
        userIds: [pbx.users.alice],
      }),
      { ok: true },
    );
    await recorder.flush();
    t.match(await ts.store.records.cdrByCallId('out-1'), {
      direction: 'outbound',
      disposition: 'in_progress',
      to_number: '442071234567',
      user_id: pbx.users.alice,
      trunk_id: pbx.trunkA,
    });
    const end = {
      answeredAt: start + 5,
      endedAt: start + 95,
      disposition: 'answered' as const,
      hangupCause: 'normal',
    };
    t.match(await brain.release({ callId: 'out-1', end }), { released: true });
    const cdr = await ts.store.records.cdrByCallId('out-1');
    t.match(
      cdr,
      { disposition: 'answered', billsec: 90, cost_micros: 30_000, hangup_cause: 'normal' },
      'longest prefix 4420: 90 s at 0.02/min',
    );
    const wallet = (await ts.store.directory.wallet(pbx.accountId))?.balanceMicros;
    t.equal(wallet, 1_000_000 - 30_000, 'the wallet is debited by the call cost');
    t.same(
      (await ts.store.records.events('out-1')).map((e) => e.kind),
      ['routed', 'ended'],
      'a call_event trace',
    );
  },
);

t.test(
  'webhooks: call.started and call.ended are signed with HMAC-SHA256 and retried with backoff',
  async (t) => {
    const { ts, pbx, brain, webhooks, sent } = await setup(t, [500, 0, 200]);
    const hook = await ts.store.table('webhook').create({
      account_id: pbx.accountId,
      url: 'https://hooks.example.com/calls',
      events: 'call.ended',
      secret: 'whsec_0123456789abcdef',
    });
    t.equal(hook.ok, true);
    const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
    await brain.route({
      callId: 'w-1',
      to: { user: 'bob', host: 'h' },
      from: { user: 'alice', host: 'h' },
      caller,
    });
    await brain.release({ callId: 'w-1', end: { disposition: 'no_answer' } });
    t.equal(await webhooks.deliverDue(), 1, 'only the subscribed event is queued');
    t.equal(sent.length, 1);
    const first = sent[0];
    const ts0 = Number(first?.headers[TIMESTAMP_HEADER]);
    const expected = `sha256=${createHmac('sha256', 'whsec_0123456789abcdef')
      .update(`${ts0}.${first?.body ?? ''}`)
      .digest('hex')}`;
    t.equal(first?.headers[SIGNATURE_HEADER], expected, 'the receiver can verify the signature');
    t.match(JSON.parse(first?.body ?? '{}'), {
      event: 'call.ended',
      account_id: pbx.accountId,
      data: { call_id: 'w-1', disposition: 'no_answer' },
    });
    t.equal(await webhooks.deliverDue(), 0, 'a failed delivery waits for its backoff');
    ts.clock.advance(5_000);
    t.equal(await webhooks.deliverDue(), 1, 'retried after 5 s');
    ts.clock.advance(9_000);
    t.equal(await webhooks.deliverDue(), 0, 'the second retry waits 10 s');
    ts.clock.advance(1_000);
    t.equal(await webhooks.deliverDue(), 1);
    const row = ts.store.db.prepare('SELECT status, attempts FROM webhook_delivery').get();
    t.same(row, { status: 'delivered', attempts: 3 });
  },
);

t.test('webhooks: a receiver that never answers is given up after the last attempt', async (t) => {
  const { ts, pbx, brain, webhooks } = await setup(t, Array(20).fill(503) as number[]);
  await ts.store
    .table('webhook')
    .create({ account_id: pbx.accountId, url: 'http://127.0.0.1:9/x', events: 'call.started' });
  await brain.route({
    callId: 'g-1',
    to: { user: 'bob', host: 'h' },
    from: { user: 'alice', host: 'h' },
    caller: { accountId: pbx.accountId, userId: pbx.users.alice },
  });
  for (let i = 0; i < MAX_ATTEMPTS + 2; i++) {
    await webhooks.deliverDue();
    ts.clock.advance(3_600_000);
  }
  t.same(ts.store.db.prepare('SELECT status, attempts FROM webhook_delivery').get(), {
    status: 'failed',
    attempts: MAX_ATTEMPTS,
  });
});

t.test('api: GET /v1/calls pages by time and cursor and speaks CSV', async (t) => {
  const { ts, pbx, brain, recorder } = await setup(t);
  const caller = { accountId: pbx.accountId, userId: pbx.users.alice };
  const t0 = ts.clock.nowMs() / 1000;
  for (let i = 0; i < 5; i++) {
    await brain.route({
      callId: `call-${i}`,
      to: { user: 'bob', host: 'h' },
      from: { user: 'alice, "the boss"', host: 'h' },
      caller,
    });
    ts.clock.advance(60_000);
  }
  await recorder.flush();
  const app = await createHttpApp({ store: ts.store });
  t.teardown(() => app.close());
  const key = (await ts.store.apiKeys.create(pbx.accountId, 'cdr', ['cdr'])).key;
  const get = async (url: string, accept = 'application/json') =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, accept } });
  const all = (await get('/v1/calls')).json<{
    items: { call_id: string }[];
    next_cursor: string | null;
  }>();
  t.same(
    all.items.map((c) => c.call_id),
    ['call-4', 'call-3', 'call-2', 'call-1', 'call-0'],
    'newest first',
  );
  const window = (await get(`/v1/calls?since=${t0 + 60}&until=${t0 + 180}`)).json<{
    items: { call_id: string }[];
  }>();
  t.same(
    window.items.map((c) => c.call_id),
    ['call-2', 'call-1'],
  );
  const p1 = (await get('/v1/calls?limit=3')).json<{ items: unknown[]; next_cursor: string }>();
  const p2 = (await get(`/v1/calls?limit=3&cursor=${p1.next_cursor}`)).json<{
    items: unknown[];
    next_cursor: string | null;
  }>();
  t.equal(p1.items.length + p2.items.length, 5);
  t.equal(p2.next_cursor, null);
  const csv = await get('/v1/calls?format=csv');
  t.match(csv.headers['content-type'], /text\/csv/);
  const lines = csv.body.trimEnd().split('\r\n');
  t.equal(lines.length, 6, 'header and five rows');
  t.match(lines[0], /^id,account_id,call_id,direction,from_number/);
  t.match(
    lines[1],
    /,"alice, ""the boss""",/,
    'fields with commas and quotes are quoted (RFC 4180)',
  );
  t.equal((await get('/v1/calls', 'text/csv')).headers['content-type'], 'text/csv; charset=utf-8');
  const ev = (await get('/v1/calls/call-0/events')).json<{ events: { kind: string }[] }>();
  t.same(
    ev.events.map((e) => e.kind),
    ['routed'],
  );
  t.equal((await get('/v1/calls?limit=0')).statusCode, 400);
});
