import type { Database, Statement } from 'better-sqlite3';
import { newId } from '../../util/ids.js';
import type { WebhookDelivery, WebhookQueue } from '../webhook-queue.js';

type R = Record<string, unknown>;

export class SqliteWebhookQueue implements WebhookQueue {
  #db: Database;
  #hooks: Statement<[string], { id: string; events: string }>;
  #insert: Statement;
  #due: Statement<[number, number], R>;
  #ok: Statement;
  #fail: Statement;

  constructor(db: Database) {
    this.#db = db;
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

  enqueue(accountId: string, event: string, payload: string, nowSec: number): Promise<number> {
    const hooks = this.#hooks.all(accountId).filter((h) => h.events.split(' ').includes(event));
    if (hooks.length > 0) {
      this.#db.transaction(() => {
        for (const h of hooks)
          this.#insert.run(newId('whd'), accountId, h.id, event, payload, nowSec, nowSec);
      })();
    }
    return Promise.resolve(hooks.length);
  }

  due(nowSec: number, limit: number): Promise<WebhookDelivery[]> {
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
