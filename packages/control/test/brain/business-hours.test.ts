import t from 'tap';
import { evaluateSchedule } from '../../src/brain/business-hours.js';
import type { ScheduleInfo, ScheduleRule } from '../../src/store/directory.js';
import { create } from '../support/test-store.js';
import { setup } from '../support/route-setup.js';

const rule = (r: Partial<ScheduleRule>): ScheduleRule => ({
  kind: 'weekly',
  weekday: null,
  startTime: null,
  endTime: null,
  startDate: null,
  endDate: null,
  isClosed: false,
  ...r,
});
const weekdays = (start: string, end: string) =>
  [1, 2, 3, 4, 5].map((weekday) => rule({ weekday, startTime: start, endTime: end }));
const sched = (timezone: string, rules: ScheduleRule[]): ScheduleInfo => ({
  id: 'sch_x',
  timezone,
  rules,
});
const at = (iso: string) => Date.parse(iso);
const state = (s: ScheduleInfo | undefined, iso: string) => evaluateSchedule(s, at(iso)).state;

t.test(
  'hours: weekly windows are local wall time on both sides of a DST change (New York)',
  (t) => {
    const office = sched('America/New_York', weekdays('09:00', '17:00'));
    t.equal(state(office, '2025-03-03T13:30:00Z'), 'closed', 'Mon 08:30 EST: before opening');
    t.equal(
      state(office, '2025-03-10T13:30:00Z'),
      'open',
      'same UTC time a week later is 09:30 EDT',
    );
    t.equal(state(office, '2025-03-10T20:59:00Z'), 'open', '16:59 EDT');
    t.equal(state(office, '2025-03-10T21:00:00Z'), 'closed', '17:00 EDT: end is exclusive');
    t.equal(state(office, '2025-11-03T14:00:00Z'), 'open', 'after fall-back: 09:00 EST');
    t.equal(state(office, '2025-11-03T13:59:00Z'), 'closed');
    t.end();
  },
);

t.test('hours: a window on the spring-forward night still matches the hours that exist', (t) => {
  const night = sched('America/New_York', [
    rule({ weekday: 7, startTime: '01:00', endTime: '04:00' }),
  ]);
  t.equal(state(night, '2025-03-09T06:59:00Z'), 'open', '01:59 EST');
  t.equal(state(night, '2025-03-09T07:00:00Z'), 'open', '03:00 EDT, the clock jumped over 02:xx');
  t.equal(state(night, '2025-03-09T08:00:00Z'), 'closed', '04:00 EDT');
  t.end();
});

t.test(
  'hours: the fall-back hour happens twice and both are inside a window covering it (London)',
  (t) => {
    const s = sched('Europe/London', [rule({ weekday: 7, startTime: '01:00', endTime: '02:00' })]);
    t.equal(state(s, '2025-10-26T00:30:00Z'), 'open', '01:30 BST');
    t.equal(state(s, '2025-10-26T01:30:00Z'), 'open', '01:30 GMT, the repeated hour');
    t.equal(state(s, '2025-10-26T02:00:00Z'), 'closed', '02:00 GMT');
    t.end();
  },
);

t.test('hours: overnight windows run past midnight into the next day', (t) => {
  const s = sched('UTC', [rule({ weekday: 5, startTime: '22:00', endTime: '06:00' })]);
  t.equal(state(s, '2025-01-10T23:00:00Z'), 'open', 'Friday 23:00');
  t.equal(state(s, '2025-01-11T05:59:00Z'), 'open', 'Saturday 05:59');
  t.equal(state(s, '2025-01-11T06:00:00Z'), 'closed', 'Saturday 06:00');
  t.equal(state(s, '2025-01-09T23:00:00Z'), 'closed', 'Thursday 23:00');
  t.equal(state(s, '2025-01-10T21:59:00Z'), 'closed', 'Friday 21:59');
  const sun = sched('UTC', [rule({ weekday: 7, startTime: '20:00', endTime: '02:00' })]);
  t.equal(state(sun, '2025-01-13T01:00:00Z'), 'open', 'a Sunday window wraps into Monday');
  t.end();
});

t.test('hours: an overnight window across the Berlin spring-forward night', (t) => {
  const s = sched('Europe/Berlin', [rule({ weekday: 6, startTime: '22:00', endTime: '06:00' })]);
  t.equal(state(s, '2025-03-29T21:30:00Z'), 'open', 'Sat 22:30 CET');
  t.equal(state(s, '2025-03-30T03:30:00Z'), 'open', 'Sun 05:30 CEST');
  t.equal(state(s, '2025-03-30T04:00:00Z'), 'closed', 'Sun 06:00 CEST');
  t.end();
});

t.test('hours: date rules override weekly rules; closed dates are holidays', (t) => {
  const s = sched('Europe/London', [
    ...weekdays('09:00', '17:00'),
    rule({ kind: 'date', startDate: '2025-12-25', isClosed: true }),
    rule({
      kind: 'date',
      startDate: '2025-12-24',
      startTime: '13:00',
      endTime: '24:00',
      isClosed: true,
    }),
    rule({
      kind: 'date_range',
      startDate: '2025-12-29',
      endDate: '2025-12-31',
      startTime: '10:00',
      endTime: '14:00',
    }),
  ]);
  t.equal(
    state(s, '2025-12-25T11:00:00Z'),
    'holiday',
    'Christmas, a Thursday, is a holiday all day',
  );
  t.equal(
    state(s, '2025-12-24T10:00:00Z'),
    'open',
    'Christmas Eve morning: the weekly window applies',
  );
  t.equal(state(s, '2025-12-24T14:00:00Z'), 'holiday', 'Christmas Eve after 13:00: closed early');
  t.equal(
    state(s, '2025-12-29T09:30:00Z'),
    'closed',
    'short hours between the holidays: not yet open',
  );
  t.equal(state(s, '2025-12-29T11:00:00Z'), 'open');
  t.equal(
    state(s, '2025-12-30T15:00:00Z'),
    'closed',
    'the date range decides alone, weekly 17:00 does not apply',
  );
  t.equal(state(s, '2026-01-05T15:00:00Z'), 'open', 'after the range the weekly rules are back');
  t.end();
});

t.test('hours: a missing or broken schedule fails open', (t) => {
  t.equal(state(undefined, '2025-01-01T03:00:00Z'), 'open');
  t.equal(
    state(sched('Nowhere/Atlantis', weekdays('09:00', '10:00')), '2025-01-04T03:00:00Z'),
    'open',
  );
  t.equal(state(sched('UTC', []), '2025-01-04T03:00:00Z'), 'open');
  t.equal(
    state(
      sched('UTC', [rule({ weekday: null, startTime: '09:00', endTime: '10:00' })]),
      '2025-01-04T03:00:00Z',
    ),
    'open',
  );
  t.equal(
    evaluateSchedule(sched('UTC', [rule({ weekday: 1, startTime: '25:99', endTime: '10:00' })]), 0)
      .basis,
    'broken: invalid rule',
  );
  t.end();
});

t.test('hours: a DID follows its schedule to the closed and holiday targets', async (t) => {
  const { ts, pbx, brain, did, inbound } = await setup(t);
  const sch = await create(ts.store, 'time_schedule', {
    account_id: pbx.accountId,
    name: 'office',
    timezone: 'Europe/London',
    rules: [
      ...[1, 2, 3, 4, 5].map((weekday) => ({
        kind: 'weekly',
        weekday,
        start_time: '09:00',
        end_time: '17:00',
      })),
      { kind: 'date', start_date: '2025-12-25', is_closed: true },
    ],
  });
  const number = await did(
    { dest_kind: 'user', dest_id: pbx.users.bob },
    {
      schedule_id: sch,
      closed_dest_kind: 'voicemail',
      closed_dest_id: pbx.voicemailId,
      holiday_dest_kind: 'hangup',
      holiday_dest_xform: { status: 480, reason: 'Holiday' },
    },
  );
  ts.clock.set(at('2025-12-23T10:00:00Z'));
  t.match(
    (await brain.route(inbound(number))).directive,
    { kind: 'proxy' },
    'open: the main target',
  );
  ts.clock.set(at('2025-12-23T19:00:00Z'));
  t.match(
    (await brain.route(inbound(number))).directive,
    { kind: 'flow', app: 'voicemail' },
    'closed: the closed target',
  );
  ts.clock.set(at('2025-12-25T10:00:00Z'));
  t.match(
    (await brain.route(inbound(number))).directive,
    { kind: 'reject', status: 480, reason: 'Holiday' },
    'holiday: the holiday target',
  );
});
