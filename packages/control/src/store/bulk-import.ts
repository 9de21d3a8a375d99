import type { Result } from '../errors/ctl-errors.js';

/** One subscriber line of a provisioning file: a SIP user with one device (and an extension). */
export interface SubscriberInput {
  account_id?: string;
  domain: string;
  username: string;
  password: string;
  display_name?: string;
  caller_id_number?: string;
  extension?: string;
}

/**
 * A provisioning document: `subscribers` (user + device + optional extension) and, for any
 * other table, rows as the REST API takes them, keyed by resource name (`dids`, `ring_groups`...).
 */
export interface ImportDocument {
  /** Account for rows that name none. */
  account_id?: string;
  subscribers?: SubscriberInput[];
  [resource: string]: unknown;
}

export interface ImportReport {
  subscribers: number;
  devices: number;
  domains: number;
  rows: Record<string, number>;
  ms: number;
}

export interface ImportOptions {
  /** Default account for rows without `account_id`. */
  accountId?: string;
  /** Called every `progressEvery` subscribers. */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

/** All-or-nothing import: one transaction, prepared statements; an error names the row and field. */
export interface BulkImporter {
  importDocument(doc: unknown, options?: ImportOptions): Promise<Result<ImportReport>>;
}
