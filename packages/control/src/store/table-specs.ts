import type { TableName, TableSpec } from './table-spec.js';
import {
  account,
  apiKey,
  mediaFile,
  sipDevice,
  sipDomain,
  sipUser,
  voicemail,
  webhook,
} from './specs/identity-specs.js';
import {
  callFlow,
  callLimit,
  did,
  extension,
  outboundRoute,
  queue,
  rate,
  ringGroup,
  sipTrunk,
  timeSchedule,
} from './specs/routing-specs.js';

export const TABLE_SPECS: readonly TableSpec[] = Object.freeze([
  account,
  sipDomain,
  voicemail,
  mediaFile,
  sipUser,
  sipDevice,
  timeSchedule,
  callFlow,
  sipTrunk,
  queue,
  ringGroup,
  extension,
  did,
  outboundRoute,
  rate,
  callLimit,
  apiKey,
  webhook,
]);

export type EditableTable = (typeof TABLE_SPECS)[number]['table'];

const BY_TABLE = new Map<string, TableSpec>(TABLE_SPECS.map((s) => [s.table, s]));

export function specOf(table: TableName): TableSpec {
  const spec = BY_TABLE.get(table);
  if (spec === undefined) throw new Error(`no table spec for ${table}`);
  return spec;
}

export function hasSpec(table: string): boolean {
  return BY_TABLE.has(table);
}
