import { createHmac } from 'node:crypto';
import type { SecretStore } from '../store/secret-store.js';
import type { WebhookQueue } from '../store/webhook-queue.js';
import type { WallClock } from '../util/wall-clock.js';
import type { CallWebhookEvent } from './call-recorder.js';

export const SIGNATURE_HEADER = 'x-switchboard-signature';
export const TIMESTAMP_HEADER = 'x-switchboard-timestamp';
export const EVENT_HEADER = 'x-switchboard-event';

/** Sends one HTTP POST; resolves with the status (0 for a transport failure). */
export type WebhookSender = (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<number>;

export const fetchSender: WebhookSender = async (url, body, headers) => {
  try {
    const res = await fetch(url, {
      method: 'POST',
      body,
      headers,
      signal: AbortSignal.timeout(10_000),
    });
    return res.status;
  } catch {
    return 0;
  }
};

/** `sha256=` HMAC-SHA256 of `timestamp.body` under the webhook's secret. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export const MAX_ATTEMPTS = 8;

/** Seconds before retry `attempt` (1-based): 5, 10, 20 ... capped at one hour. */
export function backoffSec(attempt: number): number {
  return Math.min(3600, 5 * 2 ** (attempt - 1));
}

export interface WebhookDispatcherOptions {
  queue: WebhookQueue;
  secrets: SecretStore;
  clock: WallClock;
  send?: WebhookSender;
}

/**
 * call.started / call.ended webhooks: queued durably, POSTed signed (HMAC-SHA256 over
 * `timestamp.body`), retried with exponential backoff, given up after MAX_ATTEMPTS.
 */
export class WebhookDispatcher {
  #o: Required<WebhookDispatcherOptions>;
  #timer: NodeJS.Timeout | undefined;
  #running = false;

  constructor(options: WebhookDispatcherOptions) {
    this.#o = { send: fetchSender, ...options };
  }

  #now(): number {
    return Math.floor(this.#o.clock.nowMs() / 1000);
  }

  /** Listener for CallRecorder: never throws. */
  readonly listener = (
    event: CallWebhookEvent,
    accountId: string,
    payload: Record<string, unknown>,
  ): void => {
    if (this.#o.queue.wants?.(accountId, event) === false) return;
    const body = JSON.stringify({ event, account_id: accountId, data: payload });
    this.#o.queue.enqueue(accountId, event, body, this.#now()).catch(() => undefined);
  };

  /** Deliver everything due now; returns deliveries attempted. */
  async deliverDue(limit = 50): Promise<number> {
    if (this.#running) return 0;
    this.#running = true;
    try {
      const due = await this.#o.queue.due(this.#now(), limit);
      for (const d of due) {
        const ts = this.#now();
        const secret = d.secretRef === null ? undefined : await this.#o.secrets.get(d.secretRef);
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          [EVENT_HEADER]: d.event,
          [TIMESTAMP_HEADER]: String(ts),
        };
        if (secret !== undefined) headers[SIGNATURE_HEADER] = signWebhook(secret, ts, d.payload);
        const status = await this.#o.send(d.url, d.payload, headers);
        if (status >= 200 && status < 300) await this.#o.queue.delivered(d.id);
        else {
          const attempt = d.attempts + 1;
          await this.#o.queue.failed(
            d.id,
            `HTTP ${status}`,
            attempt >= MAX_ATTEMPTS ? null : ts + backoffSec(attempt),
          );
        }
      }
      return due.length;
    } finally {
      this.#running = false;
    }
  }

  start(intervalMs = 1000): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.deliverDue().catch(() => undefined), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
