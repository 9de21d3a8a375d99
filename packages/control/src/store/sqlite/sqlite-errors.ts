import { CtlError } from '../../errors/ctl-errors.js';

interface SqliteLikeError {
  code?: unknown;
  message?: unknown;
}

/**
 * Turn a SQLite constraint failure into a typed error naming the table and column. CHECK
 * constraints are named `ck_<table>_<column>` in the migrations, so the name is the field.
 */
export function mapSqliteError(err: unknown): CtlError {
  if (err instanceof CtlError) return err;
  const e = (err ?? {}) as SqliteLikeError;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (code === 'SQLITE_CONSTRAINT_CHECK') {
    const name = /CHECK constraint failed: (\S+)/.exec(message)?.[1] ?? 'unknown';
    const field = describeCheck(name);
    return new CtlError(
      'CTL_ERR_CONSTRAINT',
      `${field} is not allowed (constraint ${name})`,
      field,
    );
  }
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    const cols = /constraint failed: (.+)$/.exec(message)?.[1] ?? 'row';
    return new CtlError('CTL_ERR_CONFLICT', `${cols} already exists`, cols);
  }
  if (code === 'SQLITE_CONSTRAINT_NOTNULL') {
    const col = /constraint failed: (\S+)/.exec(message)?.[1] ?? 'column';
    return new CtlError('CTL_ERR_VALIDATION', `${col} is required`, col);
  }
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new CtlError(
      'CTL_ERR_REFERENCE',
      'a referenced row does not exist, or the row is still referenced',
    );
  }
  return new CtlError('CTL_ERR_INTERNAL', `database error: ${message}`);
}

/** `ck_sip_user_ring_strategy` → `sip_user.ring_strategy` (longest known table name wins). */
function describeCheck(name: string): string {
  const body = name.startsWith('ck_') ? name.slice(3) : name;
  const tables = KNOWN_TABLES.filter((t) => body.startsWith(`${t}_`)).sort(
    (a, b) => b.length - a.length,
  );
  const table = tables[0];
  return table === undefined ? body : `${table}.${body.slice(table.length + 1)}`;
}

const KNOWN_TABLES = [
  'account',
  'secret',
  'wallet',
  'wallet_txn',
  'sip_domain',
  'voicemail',
  'sip_user',
  'sip_device',
  'time_schedule',
  'time_schedule_rule',
  'call_flow',
  'call_flow_version',
  'sip_trunk',
  'queue',
  'agent_queue_assignment',
  'ring_group',
  'ring_group_member',
  'extension',
  'did',
  'outbound_route',
  'outbound_route_trunk',
  'rate',
  'call_limit',
  'media_file',
  'call_cdr',
  'call_event',
  'api_key',
  'webhook',
  'webhook_delivery',
];
