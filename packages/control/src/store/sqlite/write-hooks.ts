import { createHash, randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { IANAZone } from 'luxon';
import { deviceDigests } from '../../auth/device-digests.js';
import { CtlError } from '../../errors/ctl-errors.js';
import type { WriteMode } from '../validate-row.js';
import type { ReferenceChecker } from './reference-checker.js';
import type { SqliteSecretStore } from './sqlite-secret-store.js';
import type { StoredRow } from './row-codec.js';

/** What a write hook sees and may change; runs inside the write transaction. */
export interface WriteHookContext {
  readonly mode: WriteMode;
  readonly id: string;
  readonly accountId: string;
  /** Stored values about to be written; the hook may add computed columns. */
  readonly columns: Record<string, unknown>;
  readonly virtual: Readonly<Record<string, string>>;
  readonly existing: StoredRow | undefined;
  /** Values to show the client once (never stored in clear). */
  readonly reveal: Record<string, string>;
  readonly now: number;
}

export interface TableHooks {
  before?(ctx: WriteHookContext): void;
  after?(ctx: WriteHookContext): void;
}

export interface WriteHookDeps {
  db: Database;
  secrets: SqliteSecretStore;
  refs: ReferenceChecker;
}

/** SHA-256 of an API key, hex: what `api_key.key_hash` stores. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** A fresh API key: `sk_` + 32 random bytes base64url. */
export function generateApiKey(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

function checkZone(columns: Record<string, unknown>): void {
  const tz = columns['timezone'];
  if (typeof tz === 'string' && !IANAZone.isValidZone(tz)) {
    throw new CtlError('CTL_ERR_VALIDATION', `timezone ${tz} is not an IANA time zone`, 'timezone');
  }
}

/** Replace a secret column from a virtual field (old ciphertext deleted in the same transaction). */
function storeSecret(
  deps: WriteHookDeps,
  ctx: WriteHookContext,
  field: string,
  column: string,
): void {
  const clear = ctx.virtual[field];
  if (clear === undefined) return;
  const old = ctx.existing?.[column];
  if (typeof old === 'string') deps.secrets.deleteSync(old);
  ctx.columns[column] = deps.secrets.putSync(ctx.accountId, clear);
}

const LIMIT_SCOPE_TABLE = { user: 'sip_user', did: 'did', trunk: 'sip_trunk' } as const;

/** A call limit's scope_id must be a user, DID or trunk (per `scope`) of the same account. */
function checkLimitScope(deps: WriteHookDeps, ctx: WriteHookContext): void {
  const scope = (ctx.columns['scope'] ?? ctx.existing?.['scope']) as string;
  const scopeId =
    ctx.columns['scope_id'] !== undefined ? ctx.columns['scope_id'] : ctx.existing?.['scope_id'];
  if (scope === 'account') {
    if (scopeId !== null && scopeId !== undefined) {
      throw new CtlError(
        'CTL_ERR_VALIDATION',
        'scope_id must be null for account scope',
        'scope_id',
      );
    }
    return;
  }
  const table = LIMIT_SCOPE_TABLE[scope as keyof typeof LIMIT_SCOPE_TABLE];
  if (typeof scopeId !== 'string' || deps.refs.ownerOf(table, scopeId) !== ctx.accountId) {
    throw new CtlError(
      'CTL_ERR_REFERENCE',
      `scope_id must be a ${scope} of this account`,
      'scope_id',
    );
  }
}

function deviceHooks(deps: WriteHookDeps): TableHooks {
  const realmOf: Statement<[string], { domain: string }> = deps.db.prepare(
    'SELECT d.domain FROM sip_user u JOIN sip_domain d ON d.id = u.domain_id WHERE u.id = ?',
  );
  return {
    before(ctx) {
      const password = ctx.virtual['password'];
      if (ctx.mode === 'create') {
        if (password === undefined)
          throw new CtlError('CTL_ERR_VALIDATION', 'password is required', 'password');
        const realm = realmOf.get(String(ctx.columns['user_id']))?.domain;
        if (realm === undefined)
          throw new CtlError('CTL_ERR_REFERENCE', 'user_id does not exist', 'user_id');
        ctx.columns['realm'] = realm;
      }
      if (password !== undefined) {
        const user = String(ctx.columns['auth_username'] ?? ctx.existing?.['auth_username']);
        const realm = String(ctx.columns['realm'] ?? ctx.existing?.['realm']);
        Object.assign(ctx.columns, deviceDigests(user, realm, password));
      }
    },
  };
}

function flowHooks(deps: WriteHookDeps): TableHooks {
  const insertVersion = deps.db.prepare(
    'INSERT INTO call_flow_version (flow_id, account_id, version, graph_json, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  return {
    before(ctx) {
      if (ctx.mode === 'create') ctx.columns['version'] = 1;
      else if (ctx.columns['graph_json'] !== undefined)
        ctx.columns['version'] = Number(ctx.existing?.['version'] ?? 0) + 1;
    },
    after(ctx) {
      if (ctx.columns['graph_json'] === undefined) return;
      insertVersion.run(
        ctx.id,
        ctx.accountId,
        ctx.columns['version'],
        ctx.columns['graph_json'],
        ctx.now,
      );
    },
  };
}

function accountHooks(deps: WriteHookDeps): TableHooks {
  const insertWallet = deps.db.prepare('INSERT INTO wallet (account_id, updated_at) VALUES (?, ?)');
  return {
    before: (ctx) => checkZone(ctx.columns),
    after(ctx) {
      if (ctx.mode === 'create') insertWallet.run(ctx.id, ctx.now);
    },
  };
}

/** Per-table write behaviour beyond the spec: digests, secrets, versions, generated keys. */
export function createWriteHooks(deps: WriteHookDeps): Readonly<Record<string, TableHooks>> {
  return {
    account: accountHooks(deps),
    time_schedule: { before: (ctx) => checkZone(ctx.columns) },
    call_limit: { before: (ctx) => checkLimitScope(deps, ctx) },
    sip_device: deviceHooks(deps),
    call_flow: flowHooks(deps),
    sip_trunk: { before: (ctx) => storeSecret(deps, ctx, 'auth_password', 'auth_secret_ref') },
    voicemail: { before: (ctx) => storeSecret(deps, ctx, 'pin', 'pin_secret_ref') },
    webhook: {
      before(ctx) {
        if (ctx.mode === 'create' && ctx.virtual['secret'] === undefined) {
          const secret = `whsec_${randomBytes(24).toString('base64url')}`;
          ctx.columns['secret_ref'] = deps.secrets.putSync(ctx.accountId, secret);
          ctx.reveal['secret'] = secret;
          return;
        }
        storeSecret(deps, ctx, 'secret', 'secret_ref');
      },
    },
    api_key: {
      before(ctx) {
        if (ctx.mode !== 'create') return;
        const key = generateApiKey();
        ctx.columns['key_hash'] = hashApiKey(key);
        ctx.columns['key_hint'] = key.slice(0, 10);
        ctx.reveal['key'] = key;
      },
    },
  };
}
