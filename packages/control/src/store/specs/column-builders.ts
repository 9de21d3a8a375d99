import { DEST_KINDS, destColumns } from '../table-spec.js';
import type { ColumnSpec, TableName } from '../table-spec.js';

/** Column spec builders shared by the table specs. */

export const str = (o: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'string',
  maxLength: 200,
  ...o,
});
export const optStr = (o: Partial<ColumnSpec> = {}): ColumnSpec => str({ nullable: true, ...o });
export const int = (o: Partial<ColumnSpec> = {}): ColumnSpec => ({ type: 'integer', ...o });
export const bool = (o: Partial<ColumnSpec> = {}): ColumnSpec => ({ type: 'boolean', ...o });
export const oneOf = (values: readonly string[], o: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'string',
  enum: values,
  ...o,
});
export const ref = (table: TableName, o: Partial<ColumnSpec> = {}): ColumnSpec => ({
  type: 'string',
  ref: table,
  maxLength: 40,
  ...o,
});
export const limit = (description: string): ColumnSpec =>
  int({ nullable: true, minimum: 0, maximum: 1_000_000, description });
export const json = (description: string): ColumnSpec => ({
  type: 'object',
  json: true,
  nullable: true,
  description,
});
export const digits = (min: number, max: number): string => `^[0-9]{${min},${max}}$`;
export const HHMM = '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$';
export const YMD = '^[12][0-9]{3}-[01][0-9]-[0-3][0-9]$';

export const STAMPS: Record<string, ColumnSpec> = {
  created_at: int({ readOnly: true, description: 'epoch seconds' }),
  updated_at: int({ readOnly: true, description: 'epoch seconds' }),
};

export function base(): Record<string, ColumnSpec> {
  return {
    id: str({ readOnly: true }),
    account_id: ref('account', {
      createOnly: true,
      description: 'owning account; defaults to the API key account',
    }),
  };
}

/** The three columns of a route target with column prefix `p`. */
export function dest(p: string, required: boolean): Record<string, ColumnSpec> {
  const c = destColumns(p);
  return {
    [c.kind]: oneOf(DEST_KINDS, {
      required,
      nullable: !required,
      description: 'route target kind',
    }),
    [c.id]: optStr({
      maxLength: 64,
      description: 'id of the target (a number for forward, a room for conference)',
    }),
    [c.xform]: json('small JSON object of variables passed with the target'),
  };
}

export const STATUS = oneOf(['active', 'disabled']);
