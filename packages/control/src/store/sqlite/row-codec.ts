import type { ColumnSpec, TableSpec } from '../table-spec.js';
import type { PublicRow } from '../config-store.js';

export type StoredRow = Record<string, unknown>;

function decode(spec: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (spec.type === 'boolean') return value === 1 || value === true;
  if (spec.type === 'object' && typeof value === 'string') {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return null;
    }
  }
  return value;
}

/** Stored row → what clients see: hidden columns dropped, booleans and JSON decoded. */
export function toPublicRow(
  columns: Readonly<Record<string, ColumnSpec>>,
  row: StoredRow,
): PublicRow {
  const out: PublicRow = {};
  for (const [name, spec] of Object.entries(columns)) {
    if (spec.hidden === true || !(name in row)) continue;
    out[name] = decode(spec, row[name]);
  }
  return out;
}

/** Client-form filter value → stored form (booleans 0/1). */
export function encodeFilter(
  spec: TableSpec,
  column: string,
  value: string | number | boolean,
): unknown {
  const c = spec.columns[column];
  if (c?.type === 'boolean') return value === true || value === 'true' || value === 1 ? 1 : 0;
  if (c?.type === 'integer' && typeof value === 'string') return Number(value);
  return value;
}
