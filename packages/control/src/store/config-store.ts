import type { Result } from '../errors/ctl-errors.js';
import type { Directory } from './directory.js';
import type { RecordsStore } from './records-store.js';
import type { SecretStore } from './secret-store.js';
import type { EditableTable } from './table-specs.js';
import type { TableSpec } from './table-spec.js';
import type { ApiKeyStore } from './api-key-store.js';
import type { BulkImporter } from './bulk-import.js';
import type { WebhookQueue } from './webhook-queue.js';

/** A row as clients see it: booleans as booleans, JSON columns as objects, hashes removed. */
export type PublicRow = Record<string, unknown>;

export interface ListQuery {
  /** Only rows of these accounts (tenant isolation); undefined = no account restriction. */
  accountIds?: readonly string[];
  /** Equality filters on the spec's filter columns, values in client form. */
  filters?: Readonly<Record<string, string | number | boolean>>;
  /** 1..500, default 50. */
  limit?: number;
  /** Opaque: the id of the last row of the previous page. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface WriteOutcome {
  row: PublicRow;
  /** Values shown once (a new API key, a generated webhook secret); never stored in clear. */
  revealed?: Record<string, string>;
}

/**
 * Create/read/update/delete for one operator-edited table group (a table and the children written
 * with it). Every write validates against the table spec, checks references and route targets in
 * the same account, and commits all its rows in one transaction.
 */
export interface TableRepository {
  readonly spec: TableSpec;
  create(body: unknown): Promise<Result<WriteOutcome>>;
  update(id: string, patch: unknown): Promise<Result<WriteOutcome>>;
  get(id: string): Promise<PublicRow | undefined>;
  list(query: ListQuery): Promise<Result<Page<PublicRow>>>;
  remove(id: string): Promise<Result<{ id: string }>>;
}

/** The configuration store: SQLite now, PostgreSQL later, behind the same interfaces. */
export interface ConfigStore {
  table(name: EditableTable): TableRepository;
  readonly directory: Directory;
  readonly secrets: SecretStore;
  readonly apiKeys: ApiKeyStore;
  readonly records: RecordsStore;
  readonly importer: BulkImporter;
  readonly webhooks: WebhookQueue;
  /** Accounts at or below `accountId` in the reseller tree (itself first). */
  accountSubtree(accountId: string): Promise<string[]>;
  /** True when nothing has been provisioned yet (first start). */
  isEmpty(): Promise<boolean>;
  close(): void;
}
