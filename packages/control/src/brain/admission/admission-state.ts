import type { AccountCacStatus } from '../brain.js';

export interface Reservation {
  callId: string;
  /** Counters incremented at admit; release decrements exactly these. */
  counters: string[];
  limits: Record<string, number | null>;
  expiresAtMs: number;
  ttlMs: number;
}

/** Live admission state of one account; touched only inside its actor. */
export class AdmissionState {
  readonly accountId: string;
  readonly counters = new Map<string, number>();
  readonly limits = new Map<string, number | null>();
  readonly reservations = new Map<string, Reservation>();
  /** call_limit id → admit times (ms), oldest first. */
  readonly windows = new Map<string, number[]>();
  #nextExpiry = Number.POSITIVE_INFINITY;

  constructor(accountId: string) {
    this.accountId = accountId;
  }

  add(r: Reservation): void {
    for (const key of r.counters) {
      this.counters.set(key, (this.counters.get(key) ?? 0) + 1);
      this.limits.set(key, r.limits[key] ?? null);
    }
    this.reservations.set(r.callId, r);
    this.#nextExpiry = Math.min(this.#nextExpiry, r.expiresAtMs);
  }

  remove(callId: string): Reservation | undefined {
    const r = this.reservations.get(callId);
    if (r === undefined) return undefined;
    this.reservations.delete(callId);
    for (const key of r.counters) {
      const n = (this.counters.get(key) ?? 0) - 1;
      if (n > 0) this.counters.set(key, n);
      else this.counters.delete(key);
    }
    return r;
  }

  refresh(callId: string, nowMs: number): boolean {
    const r = this.reservations.get(callId);
    if (r === undefined) return false;
    r.expiresAtMs = nowMs + r.ttlMs;
    return true;
  }

  /** Drop expired reservations (an edge that died); returns their call ids. */
  sweep(nowMs: number): string[] {
    if (nowMs < this.#nextExpiry) return [];
    const expired: string[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const r of this.reservations.values()) {
      if (r.expiresAtMs <= nowMs) expired.push(r.callId);
      else next = Math.min(next, r.expiresAtMs);
    }
    for (const id of expired) this.remove(id);
    this.#nextExpiry = next;
    return expired;
  }

  /** Admits still inside the window of a call_limit (pruning older ones). */
  windowCount(limitId: string, windowMs: number, nowMs: number): number {
    const times = this.windows.get(limitId);
    if (times === undefined) return 0;
    let drop = 0;
    while (drop < times.length && (times[drop] ?? 0) <= nowMs - windowMs) drop++;
    if (drop > 0) times.splice(0, drop);
    return times.length;
  }

  recordWindow(limitId: string, nowMs: number): void {
    const times = this.windows.get(limitId);
    if (times === undefined) this.windows.set(limitId, [nowMs]);
    else times.push(nowMs);
  }

  clear(): number {
    const n = this.reservations.size;
    this.reservations.clear();
    this.counters.clear();
    this.windows.clear();
    this.#nextExpiry = Number.POSITIVE_INFINITY;
    return n;
  }

  status(): AccountCacStatus {
    const counters: AccountCacStatus['counters'] = {};
    for (const [key, current] of this.counters)
      counters[key] = { current, limit: this.limits.get(key) ?? null };
    const windows: Record<string, number> = {};
    for (const [id, times] of this.windows) windows[id] = times.length;
    return { accountId: this.accountId, counters, reservations: this.reservations.size, windows };
  }
}
