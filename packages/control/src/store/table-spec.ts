import type { IdPrefix } from '../util/ids.js';

/** API key scopes (issue 4): a route needs one; `*` holds them all. */
export const SCOPES = Object.freeze(['numbers', 'users', 'routing', 'cdr', 'admin', '*'] as const);
export type Scope = (typeof SCOPES)[number];

export type ColumnType = 'string' | 'integer' | 'boolean' | 'object';

/** One stored column as clients see it. Booleans are 0/1 in SQLite, JSON columns are text. */
export interface ColumnSpec {
  readonly type: ColumnType;
  /** May be null (and omitted on create). */
  readonly nullable?: boolean;
  /** Must be given on create. */
  readonly required?: boolean;
  readonly enum?: readonly string[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  /** ECMAScript regular expression source (also used in the JSON schema). */
  readonly pattern?: string;
  /** Set by the server; rejected in request bodies. */
  readonly readOnly?: boolean;
  /** Never returned to clients (hashes). Implies readOnly. */
  readonly hidden?: boolean;
  /** Given on create only; rejected on update. */
  readonly createOnly?: boolean;
  /** Id of a row of this table in the same account. */
  readonly ref?: TableName;
  /** Text column holding a JSON object. */
  readonly json?: boolean;
  readonly description?: string;
}

/** A write-only body field turned into stored columns by a write hook (passwords, PINs, secrets). */
export interface VirtualFieldSpec {
  readonly type: 'string';
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly description: string;
}

/** Rows owned by a parent and written with it in one transaction (ring group members, rules...). */
export interface ChildSpec {
  readonly table: TableName;
  /** Column pointing at the parent. */
  readonly parentColumn: string;
  readonly prefix?: IdPrefix;
  /** Column set from the array index, when the child is ordered. */
  readonly positionColumn?: string;
  readonly columns: Readonly<Record<string, ColumnSpec>>;
  readonly maxItems: number;
}

export interface TableSpec {
  readonly table: TableName;
  readonly prefix: IdPrefix;
  /** URL segment under /v1 (`users`, `dids`). */
  readonly resource: string;
  readonly scope: Scope;
  /** False only for `account` itself. */
  readonly tenant: boolean;
  readonly columns: Readonly<Record<string, ColumnSpec>>;
  /** Route-target trios by column prefix: '' → dest_kind/dest_id/dest_xform. */
  readonly dests: readonly string[];
  /** Columns accepted as equality filters on list. */
  readonly filters: readonly string[];
  readonly virtual?: Readonly<Record<string, VirtualFieldSpec>>;
  readonly children?: Readonly<Record<string, ChildSpec>>;
}

export const TABLE_NAMES = Object.freeze([
  'account',
  'sip_domain',
  'sip_user',
  'sip_device',
  'did',
  'extension',
  'time_schedule',
  'time_schedule_rule',
  'ring_group',
  'ring_group_member',
  'queue',
  'agent_queue_assignment',
  'sip_trunk',
  'outbound_route',
  'outbound_route_trunk',
  'rate',
  'call_limit',
  'voicemail',
  'media_file',
  'call_flow',
  'api_key',
  'webhook',
] as const);
export type TableName = (typeof TABLE_NAMES)[number];

/** Route target kinds (issue 4): every `dest_kind` the router turns into a directive. */
export const DEST_KINDS = Object.freeze([
  'flow',
  'user',
  'extension',
  'ring_group',
  'queue',
  'voicemail',
  'conference',
  'forward',
  'trunk',
  'hangup',
] as const);
export type DestKind = (typeof DEST_KINDS)[number];

/** The table a `dest_id` of each kind points at; undefined for kinds whose id is free text. */
export const DEST_TABLE: Readonly<Record<DestKind, TableName | undefined>> = Object.freeze({
  flow: 'call_flow',
  user: 'sip_user',
  extension: 'extension',
  ring_group: 'ring_group',
  queue: 'queue',
  voicemail: 'voicemail',
  conference: undefined,
  forward: undefined,
  trunk: 'sip_trunk',
  hangup: undefined,
});

/** The three columns of a route target with the given prefix. */
export function destColumns(prefix: string): { kind: string; id: string; xform: string } {
  return { kind: `${prefix}dest_kind`, id: `${prefix}dest_id`, xform: `${prefix}dest_xform` };
}
