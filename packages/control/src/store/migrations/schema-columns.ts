/**
 * Column definitions shared by the schema migrations: prefixed ULID ids, booleans, enums, route
 * targets and limits, each with its named CHECK constraint (see 0001-initial.ts for the conventions).
 */

export const DEST_KINDS = `'flow','user','extension','ring_group','queue','voicemail','conference','forward','trunk','hangup'`;

export function id(table: string, prefix: string): string {
  return `id TEXT PRIMARY KEY CONSTRAINT ck_${table}_id CHECK (id GLOB '${prefix}_*' AND length(id) = ${prefix.length + 27})`;
}

export function bool(table: string, column: string, dflt: 0 | 1): string {
  return `${column} INTEGER NOT NULL DEFAULT ${dflt} CONSTRAINT ck_${table}_${column} CHECK (${column} IN (0, 1))`;
}

export function oneOf(
  table: string,
  column: string,
  values: readonly string[],
  dflt?: string,
): string {
  const list = values.map((v) => `'${v}'`).join(',');
  const d = dflt === undefined ? '' : ` DEFAULT '${dflt}'`;
  return `${column} TEXT NOT NULL${d} CONSTRAINT ck_${table}_${column} CHECK (${column} IN (${list}))`;
}

/** A route target trio; `name` is the column prefix ('' → dest_kind, 'closed_' → closed_dest_kind). */
export function dest(table: string, name: string, required: boolean): string {
  const k = `${name}dest_kind`;
  const i = `${name}dest_id`;
  const x = `${name}dest_xform`;
  const kindCheck = required
    ? `${k} IN (${DEST_KINDS})`
    : `${k} IS NULL OR ${k} IN (${DEST_KINDS})`;
  return [
    `${k} TEXT${required ? ' NOT NULL' : ''} CONSTRAINT ck_${table}_${k} CHECK (${kindCheck})`,
    `${i} TEXT CONSTRAINT ck_${table}_${i} CHECK (${k} IS NULL OR ${k} = 'hangup' OR ${i} IS NOT NULL)`,
    `${x} TEXT CONSTRAINT ck_${table}_${x} CHECK (${x} IS NULL OR (json_valid(${x}) AND json_type(${x}) = 'object'))`,
  ].join(',\n  ');
}

export function limit(table: string, column: string): string {
  return `${column} INTEGER CONSTRAINT ck_${table}_${column} CHECK (${column} IS NULL OR ${column} >= 0)`;
}

export const STAMPS = `created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL`;
export const TENANT = `account_id TEXT NOT NULL REFERENCES account(id) ON DELETE CASCADE`;
export const STATUS = (t: string) => oneOf(t, 'status', ['active', 'disabled'], 'active');
export const DIGITS = (t: string, c: string, min: number, max: number) =>
  `CONSTRAINT ck_${t}_${c} CHECK (length(${c}) BETWEEN ${min} AND ${max} AND ${c} NOT GLOB '*[^0-9]*')`;
export const HHMM = (t: string, c: string) =>
  `${c} TEXT CONSTRAINT ck_${t}_${c} CHECK (${c} IS NULL OR (${c} GLOB '[0-2][0-9]:[0-5][0-9]' AND ${c} <= '24:00'))`;
export const YMD = (t: string, c: string) =>
  `${c} TEXT CONSTRAINT ck_${t}_${c} CHECK (${c} IS NULL OR ${c} GLOB '[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]')`;
