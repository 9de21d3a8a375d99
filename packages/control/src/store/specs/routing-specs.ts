import type { TableSpec } from '../table-spec.js';
import {
  HHMM,
  STAMPS,
  STATUS,
  YMD,
  base,
  bool,
  dest,
  digits,
  int,
  json,
  limit,
  oneOf,
  optStr,
  ref,
  str,
} from './column-builders.js';

/** Numbers, schedules, groups, queues, trunks, routes, rates, limits and flows. */
export const did: TableSpec = {
  table: 'did',
  prefix: 'did',
  resource: 'dids',
  scope: 'numbers',
  tenant: true,
  columns: {
    ...base(),
    number: str({
      required: true,
      createOnly: true,
      pattern: '^[1-9][0-9]{5,14}$',
      description: 'E.164 without +',
    }),
    status: STATUS,
    ...dest('', true),
    max_channels: limit('concurrent calls on this number'),
    allow_anonymous: bool(),
    schedule_id: ref('time_schedule', { nullable: true }),
    ...dest('closed_', false),
    ...dest('holiday_', false),
    ...STAMPS,
  },
  dests: ['', 'closed_', 'holiday_'],
  filters: ['account_id', 'number', 'status', 'dest_kind'],
};

export const extension: TableSpec = {
  table: 'extension',
  prefix: 'ext',
  resource: 'extensions',
  scope: 'numbers',
  tenant: true,
  columns: {
    ...base(),
    number: str({ required: true, pattern: '^[0-9*#]{1,16}$' }),
    ...dest('', true),
    status: STATUS,
    ...STAMPS,
  },
  dests: [''],
  filters: ['account_id', 'number', 'status', 'dest_kind'],
};

export const timeSchedule: TableSpec = {
  table: 'time_schedule',
  prefix: 'sch',
  resource: 'schedules',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    timezone: str({ maxLength: 64 }),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id'],
  children: {
    rules: {
      table: 'time_schedule_rule',
      parentColumn: 'schedule_id',
      prefix: 'schr',
      maxItems: 500,
      columns: {
        kind: oneOf(['weekly', 'date', 'date_range'], { required: true }),
        weekday: int({
          nullable: true,
          minimum: 1,
          maximum: 7,
          description: 'ISO weekday, 1 = Monday',
        }),
        start_time: optStr({ pattern: HHMM }),
        end_time: optStr({
          pattern: HHMM,
          description: 'before start_time: the window ends the next day',
        }),
        start_date: optStr({ pattern: YMD }),
        end_date: optStr({ pattern: YMD }),
        is_closed: bool({ description: 'holiday: closed during this date (or its window)' }),
      },
    },
  },
};

export const ringGroup: TableSpec = {
  table: 'ring_group',
  prefix: 'rg',
  resource: 'ring_groups',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    strategy: oneOf(['ring_all', 'sequential', 'round_robin']),
    ring_timeout_sec: int({ minimum: 5, maximum: 3600 }),
    member_timeout_sec: int({ minimum: 2, maximum: 600 }),
    ...dest('exit_', false),
    ...STAMPS,
  },
  dests: ['exit_'],
  filters: ['account_id', 'strategy'],
  children: {
    members: {
      table: 'ring_group_member',
      parentColumn: 'ring_group_id',
      prefix: 'rgm',
      positionColumn: 'position',
      maxItems: 200,
      columns: {
        user_id: ref('sip_user', { required: true }),
        delay_sec: int({ minimum: 0, maximum: 600 }),
        timeout_sec: int({ nullable: true, minimum: 2, maximum: 600 }),
      },
    },
  },
};

export const queue: TableSpec = {
  table: 'queue',
  prefix: 'q',
  resource: 'queues',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    strategy: oneOf(['longest_idle', 'round_robin', 'ring_all', 'fewest_calls', 'random']),
    max_wait_sec: int({ minimum: 1, maximum: 86400 }),
    max_callers: limit('callers waiting at once'),
    moh_media_id: ref('media_file', { nullable: true }),
    ...dest('exit_', false),
    status: STATUS,
    ...STAMPS,
  },
  dests: ['exit_'],
  filters: ['account_id', 'status'],
  children: {
    agents: {
      table: 'agent_queue_assignment',
      parentColumn: 'queue_id',
      prefix: 'aqa',
      maxItems: 1000,
      columns: {
        user_id: ref('sip_user', { required: true }),
        tier: int({ minimum: 1, maximum: 100 }),
      },
    },
  },
};

export const sipTrunk: TableSpec = {
  table: 'sip_trunk',
  prefix: 'tr',
  resource: 'trunks',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    kind: oneOf(['carrier', 'pbx']),
    direction: oneOf(['inbound', 'outbound', 'both']),
    proxy_host: str({
      required: true,
      minLength: 1,
      maxLength: 253,
      pattern: '^[A-Za-z0-9.:\\[\\]-]+$',
    }),
    proxy_port: int({ nullable: true, minimum: 1, maximum: 65535 }),
    transport: oneOf(['udp', 'tcp', 'tls']),
    register: bool(),
    auth_username: optStr({ maxLength: 128 }),
    auth_secret_ref: str({
      nullable: true,
      readOnly: true,
      description: 'reference to the encrypted password',
    }),
    caller_id: optStr({ maxLength: 32 }),
    max_channels: limit('concurrent calls on this trunk'),
    inbound_auth: oneOf(['ip', 'digest', 'none']),
    inbound_ips: optStr({
      maxLength: 2000,
      pattern: '^[0-9a-fA-F.:/ ]*$',
      description: 'space-separated addresses or CIDRs',
    }),
    custom_headers_json: json('custom SIP headers added on this trunk: { "X-Name": "value" }'),
    status: STATUS,
    ...STAMPS,
  },
  virtual: {
    auth_password: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'stored encrypted; never returned',
    },
  },
  dests: [],
  filters: ['account_id', 'kind', 'direction', 'status'],
};

export const outboundRoute: TableSpec = {
  table: 'outbound_route',
  prefix: 'route',
  resource: 'outbound_routes',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    prefix: str({
      pattern: digits(0, 15),
      description: 'dialled-number prefix; empty matches everything',
    }),
    priority: int({ minimum: 0, maximum: 10000, description: 'lower wins among equal prefixes' }),
    strip_digits: int({ minimum: 0, maximum: 15 }),
    prepend: str({ maxLength: 16, pattern: '^[0-9+]*$' }),
    status: STATUS,
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'prefix', 'status'],
  children: {
    trunks: {
      table: 'outbound_route_trunk',
      parentColumn: 'route_id',
      positionColumn: 'position',
      maxItems: 16,
      columns: {
        trunk_id: ref('sip_trunk', { required: true }),
        transform_json: json('per-hop number transform: { strip, prepend, add_plus }'),
      },
    },
  },
};

export const rate: TableSpec = {
  table: 'rate',
  prefix: 'rate',
  resource: 'rates',
  scope: 'admin',
  tenant: true,
  columns: {
    ...base(),
    prefix: str({ required: true, pattern: digits(0, 15) }),
    description: optStr(),
    price_per_min_micros: int({ required: true, minimum: 0 }),
    connect_fee_micros: int({ minimum: 0 }),
    initial_increment_sec: int({ minimum: 1, maximum: 3600 }),
    increment_sec: int({ minimum: 1, maximum: 3600 }),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'prefix'],
};

export const callLimit: TableSpec = {
  table: 'call_limit',
  prefix: 'lim',
  resource: 'call_limits',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    scope: oneOf(['account', 'user', 'did', 'trunk'], { required: true }),
    scope_id: optStr({
      maxLength: 40,
      description: 'user, DID or trunk id; null for account scope',
    }),
    direction: oneOf(['any', 'inbound', 'outbound', 'internal', 'dialer']),
    window_sec: int({ required: true, minimum: 1, maximum: 86400 }),
    max_calls: int({ required: true, minimum: 0 }),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'scope', 'scope_id'],
};

export const callFlow: TableSpec = {
  table: 'call_flow',
  prefix: 'flow',
  resource: 'flows',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    version: int({
      readOnly: true,
      description: 'bumped on every graph change; old versions are kept',
    }),
    graph_json: { type: 'object', json: true, required: true, description: 'the call-flow graph' },
    status: oneOf(['draft', 'published', 'disabled']),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'status'],
};
