import type { ColumnSpec, TableSpec, VirtualFieldSpec } from '../store/table-spec.js';

export type JsonSchema = Record<string, unknown>;

/** JSON schema of one column as clients send and receive it. */
export function columnSchema(c: ColumnSpec | VirtualFieldSpec): JsonSchema {
  const s: JsonSchema = { type: c.type === 'object' ? 'object' : c.type };
  if ('enum' in c && c.enum !== undefined) s['enum'] = [...c.enum];
  if ('minimum' in c && c.minimum !== undefined) s['minimum'] = c.minimum;
  if ('maximum' in c && c.maximum !== undefined) s['maximum'] = c.maximum;
  if (c.minLength !== undefined) s['minLength'] = c.minLength;
  if (c.maxLength !== undefined) s['maxLength'] = c.maxLength;
  if ('pattern' in c && c.pattern !== undefined) s['pattern'] = c.pattern;
  if (c.description !== undefined) s['description'] = c.description;
  if ('nullable' in c && c.nullable === true) {
    s['type'] = [s['type'], 'null'];
    if (Array.isArray(s['enum'])) s['enum'] = [...(s['enum'] as unknown[]), null];
  }
  return s;
}

function writable(
  columns: Readonly<Record<string, ColumnSpec>>,
  mode: 'create' | 'update',
): [string, ColumnSpec][] {
  return Object.entries(columns).filter(
    ([, c]) =>
      c.readOnly !== true && c.hidden !== true && !(mode === 'update' && c.createOnly === true),
  );
}

/** Request body schema for create or update (PATCH), beside each route. */
export function bodySchema(spec: TableSpec, mode: 'create' | 'update'): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, c] of writable(spec.columns, mode)) {
    properties[name] = columnSchema(c);
    if (mode === 'create' && c.required === true) required.push(name);
  }
  for (const [name, v] of Object.entries(spec.virtual ?? {}))
    properties[name] = { ...columnSchema(v), writeOnly: true };
  for (const [name, child] of Object.entries(spec.children ?? {})) {
    const itemProps: Record<string, JsonSchema> = {};
    const itemRequired: string[] = [];
    for (const [col, c] of Object.entries(child.columns)) {
      itemProps[col] = columnSchema(c);
      if (c.required === true) itemRequired.push(col);
    }
    const item: JsonSchema = { type: 'object', additionalProperties: false, properties: itemProps };
    if (itemRequired.length > 0) item['required'] = itemRequired;
    properties[name] = {
      type: 'array',
      maxItems: child.maxItems,
      items: item,
      description: `replaces all ${name}`,
    };
  }
  const schema: JsonSchema = { type: 'object', additionalProperties: false, properties };
  if (required.length > 0) schema['required'] = required;
  if (mode === 'update') schema['minProperties'] = 1;
  return schema;
}

/** Response row schema (documentation). */
export function rowSchema(spec: TableSpec): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [name, c] of Object.entries(spec.columns)) {
    if (c.hidden !== true) properties[name] = columnSchema({ ...c, nullable: c.nullable ?? false });
  }
  for (const name of Object.keys(spec.children ?? {}))
    properties[name] = { type: 'array', items: { type: 'object' } };
  return { type: 'object', properties };
}

/** List query: pagination, account and the spec's equality filters (all strings in a query). */
export function listQuerySchema(spec: TableSpec): JsonSchema {
  const properties: Record<string, JsonSchema> = {
    limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: '1..500, default 50' },
    cursor: { type: 'string', maxLength: 64, description: 'next_cursor of the previous page' },
  };
  for (const f of spec.filters) properties[f] = { type: 'string', maxLength: 253 };
  if (spec.tenant) properties['account_id'] = { type: 'string', maxLength: 64 };
  return { type: 'object', additionalProperties: false, properties };
}

export const ID_PARAMS: JsonSchema = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', maxLength: 64, pattern: '^[a-z]{1,6}_[0-9A-Z]{26}$' } },
};

export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'stable CTL_ERR_* code' },
    message: { type: 'string' },
  },
};
