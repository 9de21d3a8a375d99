export interface WebhookDelivery {
  id: string;
  accountId: string;
  webhookId: string;
  url: string;
  secretRef: string | null;
  event: string;
  payload: string;
  attempts: number;
}

/** Durable outbox of webhook deliveries: enqueue in the decision path, deliver with retries later. */
export interface WebhookQueue {
  /** One pending delivery per active webhook of the account subscribed to `event`; returns how many. */
  enqueue(accountId: string, event: string, payload: string, nowSec: number): Promise<number>;
  /** Whether some active webhook of the account takes `event` (lets callers skip building a payload). */
  wants?(accountId: string, event: string): boolean;
  due(nowSec: number, limit: number): Promise<WebhookDelivery[]>;
  delivered(id: string): Promise<void>;
  /** Record a failed attempt; `nextAttemptAt` null gives up (status failed). */
  failed(id: string, error: string, nextAttemptAt: number | null): Promise<void>;
}
