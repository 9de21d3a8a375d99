import type { Database, Statement } from 'better-sqlite3';
import { newId } from '../../util/ids.js';
import type { WebhookDelivery, WebhookQueue } from '../webhook-queue.js';

type R = Record<string, unknown>;

/** Active webhooks of an account are re-read after this long even without a local write. */
const HOOKS_TTL_MS = 1000;

interface AccountHooks {
  readAt: number;
  hooks: { id: string; events: readonly string[] }[];
}

type PendingDelivery = [string, string, string, string, string, number, number];

/**
 * The webhook outbox in SQLite. Enqueue is on the call path: the account's active webhooks are
 * cached (dropped by `invalidate()` on local writes, re-read after HOOKS_TTL_MS for writes by
 * other processes), and deliveries queued in one tick are inserted in one transaction right after
 * it (`due` writes them first).
 */
export class SqliteWebhookQueue implements WebhookQueue {
  #db: Database;
  #cache = new Map<string, AccountHooks>();
  #pending: PendingDelivery[] = [];
  #scheduled = false;
  #now: () => number;
  #hooks: Statement<[string], { id: string; events: string }>;
  #insert: Statement;
  #due: Statement<[number, number], R>;
  #ok: Statement;
  #fail: Statement;

  constructor(db: Database, now: () => number = () => performance.now()) {
    this.#db = db;
    this.#now = now;
    this.#hooks = db.prepare(
      "SELECT id, events FROM webhook WHERE account_id = ? AND status = 'active'",
    );
    this.#insert =
      db.prepare(`INSERT INTO webhook_delivery (id, account_id, webhook_id, event, payload, next_attempt_at, created_at)
                               VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.#due =
      db.prepare(`SELECT d.id, d.account_id, d.webhook_id, d.event, d.payload, d.attempts, w.url, w.secret_ref
                            FROM webhook_delivery d JOIN webhook w ON w.id = d.webhook_id
                            WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?`);
    this.#ok = db.prepare(
      "UPDATE webhook_delivery SET status = 'delivered', attempts = attempts + 1, last_error = NULL WHERE id = ?",
    );
    this.#fail = db.prepare(`UPDATE webhook_delivery SET attempts = attempts + 1, last_error = ?,
                             status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
                             next_attempt_at = coalesce(?, next_attempt_at) WHERE id = ?`);
  }

  /** Forget cached webhook subscriptions (called after every committed configuration write). */
  invalidate(): void {
    this.#cache.clear();
  }

  #hooksOf(accountId: string): AccountHooks['hooks'] {
    const now = this.#now();
    const cached = this.#cache.get(accountId);
    if (cached !== undefined && now - cached.readAt < HOOKS_TTL_MS) return cached.hooks;
    const hooks = this.#hooks
      .all(accountId)
      .map((h) => ({ id: h.id, events: h.events.split(' ') }));
    if (this.#cache.size >= 10_000) this.#cache.clear();
    this.#cache.set(accountId, { readAt: now, hooks });
    return hooks;
  }

  wants(accountId: string, event: string): boolean {
    return this.#hooksOf(accountId).some((h) => h.events.includes(event));
  }

  enqueue(accountId: string, event: string, payload: string, nowSec: number): Promise<number> {
    let n = 0;
    for (const h of this.#hooksOf(accountId)) {
      if (!h.events.includes(event)) continue;
      this.#pending.push([newId('whd'), accountId, h.id, event, payload, nowSec, nowSec]);
      n++;
    }
    if (n > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        try {
          this.flush();
        } catch {
          // Like a failed enqueue before batching: the deliveries are dropped, the call goes on.
        }
      });
    }
    return Promise.resolve(n);
  }

  /** Insert queued deliveries now, in one transaction. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 || !this.#db.open) return;
    const rows = this.#pending;
    this.#pending = [];
    this.#db.transaction(() => {
      for (const r of rows) this.#insert.run(...r);
    })();
  }

  due(nowSec: number, limit: number): Promise<WebhookDelivery[]> {
    this.flush();
    return Promise.resolve(
      this.#due.all(nowSec, limit).map((r) => ({
        id: String(r['id']),
        accountId: String(r['account_id']),
        webhookId: String(r['webhook_id']),
        url: String(r['url']),
        secretRef: typeof r['secret_ref'] === 'string' ? r['secret_ref'] : null,
        event: String(r['event']),
        payload: String(r['payload']),
        attempts: Number(r['attempts']),
      })),
    );
  }

  delivered(id: string): Promise<void> {
    this.#ok.run(id);
    return Promise.resolve();
  }

  failed(id: string, error: string, nextAttemptAt: number | null): Promise<void> {
    this.#fail.run(error.slice(0, 500), nextAttemptAt, nextAttemptAt, id);
    return Promise.resolve();
  }
}
