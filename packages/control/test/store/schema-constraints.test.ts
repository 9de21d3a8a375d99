import t from 'tap';
import { openTestStore } from '../support/test-store.js';
import { buildPbx } from '../support/pbx-fixture.js';

const NOW = 1_736_000_000;

t.test('schema: CHECK constraints name table and column when a raw row is bad', (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const db = ts.store.db;
  const ins = (status: string) =>
    db
      .prepare(
        'INSERT INTO account (id, name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run('acc_01JAAAAAAAAAAAAAAAAAAAAAAA', 'x', status, NOW, NOW);
  t.throws(() => ins('sleeping'), /CHECK constraint failed: ck_account_status/);
  t.throws(
    () =>
      db
        .prepare('INSERT INTO account (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)')
        .run('user_1', 'x', NOW, NOW),
    /ck_account_id/,
    'ids carry their type prefix',
  );
  t.throws(
    () =>
      db
        .prepare(
          'INSERT INTO account (id, name, is_reseller, created_at, updated_at) VALUES (?, ?, 2, ?, ?)',
        )
        .run('acc_01JAAAAAAAAAAAAAAAAAAAAAAB', 'x', NOW, NOW),
    /ck_account_is_reseller/,
    'booleans are 0 or 1',
  );
  t.end();
});

t.test('schema: DID numbers are E.164 digits without +, unique', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const dids = ts.store.table('did');
  const bad = await dids.create({
    account_id: pbx.accountId,
    number: '+4420',
    dest_kind: 'user',
    dest_id: pbx.users.alice,
  });
  t.equal(bad.ok, false);
  if (!bad.ok) t.match(bad.error, { code: 'CTL_ERR_VALIDATION', field: 'number' });
  const good = await dids.create({
    account_id: pbx.accountId,
    number: '442071234567',
    dest_kind: 'user',
    dest_id: pbx.users.alice,
  });
  t.equal(good.ok, true);
  const dup = await dids.create({
    account_id: pbx.accountId,
    number: '442071234567',
    dest_kind: 'user',
    dest_id: pbx.users.bob,
  });
  t.equal(dup.ok, false);
  if (!dup.ok)
    t.match(dup.error, { code: 'CTL_ERR_CONFLICT', message: /did\.number already exists/ });
  const raw = () =>
    ts.store.db
      .prepare(
        `INSERT INTO did (id, account_id, number, dest_kind, dest_id, created_at, updated_at)
      VALUES ('did_01JAAAAAAAAAAAAAAAAAAAAAAA', ?, '0207123456', 'user', 'x', 1, 1)`,
      )
      .run(pbx.accountId);
  t.throws(
    raw,
    /ck_did_number_e164/,
    'a national number with a leading 0 is refused by the database itself',
  );
});

t.test('schema: route targets are validated on save', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const ext = ts.store.table('extension');
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [
      { number: '200', dest_kind: 'user', dest_id: 'us_01JAAAAAAAAAAAAAAAAAAAAAAA' },
      'CTL_ERR_REFERENCE',
      /dest_id .* is not a user of this account/,
    ],
    [{ number: '201', dest_kind: 'queue' }, 'CTL_ERR_VALIDATION', /dest_id is required for queue/],
    [
      { number: '202', dest_kind: 'hangup', dest_id: pbx.users.bob },
      'CTL_ERR_VALIDATION',
      /must be null for hangup/,
    ],
    [
      { number: '203', dest_kind: 'forward', dest_id: 'not-a-number' },
      'CTL_ERR_VALIDATION',
      /must be a phone number/,
    ],
    [
      { number: '204', dest_kind: 'teleport', dest_id: 'x' },
      'CTL_ERR_VALIDATION',
      /dest_kind must be one of/,
    ],
    [
      { number: '205', dest_kind: 'user', dest_id: pbx.users.bob, dest_xform: [1] },
      'CTL_ERR_VALIDATION',
      /dest_xform must be a JSON object/,
    ],
  ];
  for (const [body, code, message] of cases) {
    const r = await ext.create({ account_id: pbx.accountId, ...body });
    t.equal(r.ok, false, `refused: ${JSON.stringify(body)}`);
    if (!r.ok) t.match(r.error, { code, message });
  }
  const other = await buildPbx(ts.store, 'other.example.com');
  const cross = await ext.create({
    account_id: pbx.accountId,
    number: '206',
    dest_kind: 'user',
    dest_id: other.users.alice,
  });
  t.equal(cross.ok, false, 'a target in another account is refused');
  const ok = await ext.create({
    account_id: pbx.accountId,
    number: '207',
    dest_kind: 'conference',
    dest_id: 'standup',
    dest_xform: { pin: '42' },
  });
  t.equal(ok.ok, true);
});

t.test('schema: a route target cannot be deleted while a number points at it', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  await ts.store.table('extension').create({
    account_id: pbx.accountId,
    number: '300',
    dest_kind: 'user',
    dest_id: pbx.users.carol,
  });
  const r = await ts.store.table('sip_user').remove(pbx.users.carol);
  t.equal(r.ok, false);
  if (!r.ok) t.match(r.error, { code: 'CTL_ERR_CONFLICT', message: /route target of extension/ });
  t.ok(await ts.store.table('sip_user').get(pbx.users.carol), 'nothing was deleted');
});

t.test('schema: schedule rules are checked for shape and time zone', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const sch = ts.store.table('time_schedule');
  const zone = await sch.create({ account_id: pbx.accountId, name: 'x', timezone: 'Mars/Olympus' });
  t.match(zone, { ok: false, error: { code: 'CTL_ERR_VALIDATION', field: 'timezone' } });
  const shape = await sch.create({
    account_id: pbx.accountId,
    name: 'x',
    timezone: 'UTC',
    rules: [{ kind: 'weekly', start_time: '09:00', end_time: '17:00' }],
  });
  t.match(shape, {
    ok: false,
    error: { code: 'CTL_ERR_CONSTRAINT', message: /time_schedule_rule\.shape/ },
  });
  const time = await sch.create({
    account_id: pbx.accountId,
    name: 'x',
    rules: [{ kind: 'weekly', weekday: 1, start_time: '9am', end_time: '17:00' }],
  });
  t.match(time, { ok: false, error: { code: 'CTL_ERR_VALIDATION', field: 'rules[0].start_time' } });
  const before = ts.store.db.prepare('SELECT count(*) AS n FROM time_schedule').get() as {
    n: number;
  };
  t.equal(before.n, 0, 'a refused multi-row write leaves nothing behind');
});

t.test('schema: unknown and read-only fields are refused by name', async (t) => {
  const ts = openTestStore();
  t.teardown(ts.close);
  const pbx = await buildPbx(ts.store);
  const users = ts.store.table('sip_user');
  t.match(await users.update(pbx.users.bob, { colour: 'red' }), {
    ok: false,
    error: { field: 'colour', message: 'colour is not a known field' },
  });
  t.match(await users.update(pbx.users.bob, { created_at: 5 }), {
    ok: false,
    error: { field: 'created_at' },
  });
  t.match(await users.update(pbx.users.bob, { username: 'robert' }), {
    ok: false,
    error: { message: /cannot be changed/ },
  });
  t.match(await users.update(pbx.users.bob, { ring_timeout_sec: 9999 }), {
    ok: false,
    error: { field: 'ring_timeout_sec', message: /<= 600/ },
  });
  t.match(await ts.store.table('sip_device').update(pbx.devices.bobDesk, { ha1: 'x' }), {
    ok: false,
    error: { field: 'ha1' },
  });
});
