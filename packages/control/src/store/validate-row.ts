import { fail, ok } from '../errors/ctl-errors.js';
import type { Result } from '../errors/ctl-errors.js';
import type { ChildSpec, ColumnSpec, TableSpec } from './table-spec.js';

export type WriteMode = 'create' | 'update';

/** A body checked against its table spec and converted to stored values (0/1, JSON text). */
export interface ValidatedWrite {
  /** Stored column values to write. */
  columns: Record<string, unknown>;
  /** Write-only virtual fields (passwords, PINs), handed to the table's write hook. */
  virtual: Record<string, string>;
  /** Child arrays given in the body, already converted; undefined when not given. */
  children: Record<string, Record<string, unknown>[]>;
}

const MAX_XFORM_BYTES = 2048;

/** Check one value against its column spec; returns the stored form. `path` names the field. */
export function checkValue(spec: ColumnSpec, value: unknown, path: string): Result<unknown> {
  if (value === null) {
    return spec.nullable === true
      ? ok(null)
      : fail('CTL_ERR_VALIDATION', `${path} must not be null`, path);
  }
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean')
        return fail('CTL_ERR_VALIDATION', `${path} must be a boolean`, path);
      return ok(value ? 1 : 0);
    case 'integer':
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
        return fail('CTL_ERR_VALIDATION', `${path} must be an integer`, path);
      }
      if (spec.minimum !== undefined && value < spec.minimum) {
        return fail('CTL_ERR_VALIDATION', `${path} must be >= ${spec.minimum}`, path);
      }
      if (spec.maximum !== undefined && value > spec.maximum) {
        return fail('CTL_ERR_VALIDATION', `${path} must be <= ${spec.maximum}`, path);
      }
      return ok(value);
    case 'object':
      return checkObject(value, path);
    case 'string':
      return checkString(spec, value, path);
  }
}

function checkString(spec: ColumnSpec, value: unknown, path: string): Result<unknown> {
  if (typeof value !== 'string')
    return fail('CTL_ERR_VALIDATION', `${path} must be a string`, path);
  if (spec.enum !== undefined && !spec.enum.includes(value)) {
    return fail('CTL_ERR_VALIDATION', `${path} must be one of ${spec.enum.join(', ')}`, path);
  }
  if (spec.minLength !== undefined && value.length < spec.minLength) {
    return fail(
      'CTL_ERR_VALIDATION',
      `${path} must be at least ${spec.minLength} characters`,
      path,
    );
  }
  if (spec.maxLength !== undefined && value.length > spec.maxLength) {
    return fail('CTL_ERR_VALIDATION', `${path} must be at most ${spec.maxLength} characters`, path);
  }
  if (spec.pattern !== undefined && !new RegExp(spec.pattern).test(value)) {
    return fail('CTL_ERR_VALIDATION', `${path} has an invalid format`, path);
  }
  return ok(value);
}

function checkObject(value: unknown, path: string): Result<unknown> {
  if (typeof value !== 'object' || Array.isArray(value)) {
    return fail('CTL_ERR_VALIDATION', `${path} must be a JSON object`, path);
  }
  const text = JSON.stringify(value);
  if (path.endsWith('dest_xform') && text.length > MAX_XFORM_BYTES) {
    return fail(
      'CTL_ERR_VALIDATION',
      `${path} must be at most ${MAX_XFORM_BYTES} bytes of JSON`,
      path,
    );
  }
  return ok(text);
}

function checkColumns(
  columns: Readonly<Record<string, ColumnSpec>>,
  body: Record<string, unknown>,
  mode: WriteMode,
  prefix: string,
  skip: ReadonlySet<string>,
): Result<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    if (skip.has(name) || value === undefined) continue;
    const path = `${prefix}${name}`;
    const spec = columns[name];
    if (spec === undefined) return fail('CTL_ERR_VALIDATION', `${path} is not a known field`, path);
    if (spec.readOnly === true || spec.hidden === true)
      return fail('CTL_ERR_VALIDATION', `${path} is read-only`, path);
    if (mode === 'update' && spec.createOnly === true) {
      return fail('CTL_ERR_VALIDATION', `${path} cannot be changed after creation`, path);
    }
    const checked = checkValue(spec, value, path);
    if (!checked.ok) return checked;
    out[name] = checked.value;
  }
  if (mode === 'create') {
    for (const [name, spec] of Object.entries(columns)) {
      if (spec.required === true && out[name] === undefined) {
        return fail('CTL_ERR_VALIDATION', `${prefix}${name} is required`, `${prefix}${name}`);
      }
    }
  }
  return ok(out);
}

function checkChildren(
  name: string,
  child: ChildSpec,
  value: unknown,
): Result<Record<string, unknown>[]> {
  if (!Array.isArray(value)) return fail('CTL_ERR_VALIDATION', `${name} must be an array`, name);
  if (value.length > child.maxItems) {
    return fail('CTL_ERR_VALIDATION', `${name} must have at most ${child.maxItems} items`, name);
  }
  const rows: Record<string, unknown>[] = [];
  for (const [i, item] of value.entries()) {
    const path = `${name}[${i}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return fail('CTL_ERR_VALIDATION', `${path} must be an object`, path);
    }
    const checked = checkColumns(
      child.columns,
      item as Record<string, unknown>,
      'create',
      `${path}.`,
      new Set(),
    );
    if (!checked.ok) return checked;
    rows.push(checked.value);
  }
  return ok(rows);
}

/** Validate an API or import body for a table. Errors name the field (`members[2].user_id`). */
export function validateWrite(
  spec: TableSpec,
  body: unknown,
  mode: WriteMode,
): Result<ValidatedWrite> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return fail('CTL_ERR_VALIDATION', 'body must be a JSON object', 'body');
  }
  const input = body as Record<string, unknown>;
  const virtualNames = new Set(Object.keys(spec.virtual ?? {}));
  const childNames = new Set(Object.keys(spec.children ?? {}));
  const skip = new Set([...virtualNames, ...childNames]);
  const columns = checkColumns(spec.columns, input, mode, '', skip);
  if (!columns.ok) return columns;
  const virtual: Record<string, string> = {};
  for (const name of virtualNames) {
    const value = input[name];
    if (value === undefined) continue;
    const vspec = spec.virtual?.[name];
    if (vspec === undefined) continue;
    const checked = checkString(vspec, value, name);
    if (!checked.ok) return checked;
    virtual[name] = value as string;
  }
  const children: Record<string, Record<string, unknown>[]> = {};
  for (const [name, child] of Object.entries(spec.children ?? {})) {
    if (input[name] === undefined) continue;
    const checked = checkChildren(name, child, input[name]);
    if (!checked.ok) return checked;
    children[name] = checked.value;
  }
  return ok({ columns: columns.value, virtual, children });
}
