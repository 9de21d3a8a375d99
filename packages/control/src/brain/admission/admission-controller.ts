import type { Directory } from '../../store/directory.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { AdmitDecision, AdmitDirection, AdmitRequest, CacStatus } from '../brain.js';
import { AccountActor } from './account-actor.js';
import { AdmissionState } from './admission-state.js';

const DIRECTIONS: readonly AdmitDirection[] = ['inbound', 'outbound', 'internal', 'dialer'];
const MAX_USERS = 16;
export const DEFAULT_TTL_SEC = 300;

export interface AdmissionControllerOptions {
  directory: Directory;
  clock: WallClock;
  defaultTtlSec?: number;
}

interface Check {
  key: string;
  limit: number | null;
  status: number;
}

function refuse(
  code: 'CTL_ERR_LIMIT_REACHED' | 'CTL_ERR_VALIDATION' | 'CTL_ERR_FORBIDDEN' | 'CTL_ERR_CONFLICT',
  limit: string,
  reason: string,
  status: number,
): AdmitDecision {
  return { ok: false, code, limit, reason, status };
}

function shapeProblem(req: AdmitRequest): string | undefined {
  if (typeof req.callId !== 'string' || req.callId.length === 0 || req.callId.length > 256)
    return 'callId';
  if (typeof req.accountId !== 'string' || req.accountId.length > 64) return 'accountId';
  if (!DIRECTIONS.includes(req.direction)) return 'direction';
  const users = req.userIds ?? [];
  if (!Array.isArray(users) || users.length > MAX_USERS || users.some((u) => typeof u !== 'string'))
    return 'userIds';
  if (req.didId !== undefined && typeof req.didId !== 'string') return 'didId';
  if (req.trunkId !== undefined && typeof req.trunkId !== 'string') return 'trunkId';
  if (
    req.ttlSec !== undefined &&
    (!Number.isInteger(req.ttlSec) || req.ttlSec < 5 || req.ttlSec > 86400)
  )
    return 'ttlSec';
  return undefined;
}

/**
 * Call admission control. Each account's counters live in one actor; an admit reads every limit
 * that applies, checks them all, and only then increments exactly the counters it checked, in one
 * message. Reservations expire unless refreshed by dialog events, so a dead edge leaks nothing.
 */
export class AdmissionController {
  #directory: Directory;
  #clock: WallClock;
  #ttlSec: number;
  #actors = new Map<string, AccountActor<AdmissionState>>();
  #callAccount = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: AdmissionControllerOptions) {
    this.#directory = options.directory;
    this.#clock = options.clock;
    this.#ttlSec = options.defaultTtlSec ?? DEFAULT_TTL_SEC;
  }

  #actor(accountId: string): AccountActor<AdmissionState> {
    let actor = this.#actors.get(accountId);
    if (actor === undefined) {
      actor = new AccountActor(new AdmissionState(accountId));
      this.#actors.set(accountId, actor);
    }
    return actor;
  }

  admit(req: AdmitRequest): Promise<AdmitDecision> {
    const problem = shapeProblem(req);
    if (problem !== undefined)
      return Promise.resolve(refuse('CTL_ERR_VALIDATION', problem, `${problem} is invalid`, 400));
    const owner = this.#callAccount.get(req.callId);
    if (owner !== undefined && owner !== req.accountId) {
      return Promise.resolve(
        refuse('CTL_ERR_CONFLICT', 'callId', 'call is admitted on another account', 409),
      );
    }
    // Known from now on, so a release sent before this admit is processed queues behind it.
    this.#callAccount.set(req.callId, req.accountId);
    return this.#actor(req.accountId).send(async (state) => {
      const decision = await this.#admitIn(state, req);
      if (state.reservations.has(req.callId)) this.#callAccount.set(req.callId, req.accountId);
      else this.#callAccount.delete(req.callId);
      return decision;
    });
  }

  async #admitIn(state: AdmissionState, req: AdmitRequest): Promise<AdmitDecision> {
    const now = this.#clock.nowMs();
    this.#sweepIn(state, now);
    const existing = state.reservations.get(req.callId);
    if (existing !== undefined) {
      state.refresh(req.callId, now);
      return {
        ok: true,
        callId: req.callId,
        counters: existing.counters,
        expiresAt: existing.expiresAtMs,
      };
    }
    const checks = await this.#checks(req);
    if (!Array.isArray(checks)) return checks;
    for (const c of checks) {
      const current = state.counters.get(c.key) ?? 0;
      if (c.limit !== null && current >= c.limit) {
        return refuse(
          'CTL_ERR_LIMIT_REACHED',
          c.key,
          `${c.key} is at its limit of ${c.limit}`,
          c.status,
        );
      }
    }
    const windows = await this.#windowLimits(req);
    for (const w of windows) {
      if (state.windowCount(w.id, w.windowSec * 1000, now) >= w.maxCalls) {
        return refuse(
          'CTL_ERR_LIMIT_REACHED',
          `call_limit:${w.id}`,
          `${w.maxCalls} calls per ${w.windowSec}s reached`,
          503,
        );
      }
    }
    const ttlMs = (req.ttlSec ?? this.#ttlSec) * 1000;
    const limits: Record<string, number | null> = {};
    for (const c of checks) limits[c.key] = c.limit;
    const counters = checks.map((c) => c.key);
    state.add({ callId: req.callId, counters, limits, expiresAtMs: now + ttlMs, ttlMs });
    for (const w of windows) state.recordWindow(w.id, now);
    return { ok: true, callId: req.callId, counters, expiresAt: now + ttlMs };
  }

  /** Every concurrency counter the call touches, with its limit (null = unlimited). */
  async #checks(req: AdmitRequest): Promise<Check[] | AdmitDecision> {
    const account = await this.#directory.account(req.accountId);
    if (account === undefined || account.status !== 'active') {
      return refuse('CTL_ERR_FORBIDDEN', 'account', 'account unknown or not active', 403);
    }
    const accountLimit = {
      inbound: account.maxIn,
      outbound: account.maxOut,
      dialer: account.maxDialer,
      internal: null,
    }[req.direction];
    const checks: Check[] = [{ key: `acct:${req.direction}`, limit: accountLimit, status: 503 }];
    for (const userId of new Set(req.userIds ?? [])) {
      const user = await this.#directory.user(userId);
      if (user === undefined || user.accountId !== req.accountId)
        return refuse('CTL_ERR_FORBIDDEN', `user:${userId}`, 'unknown user', 403);
      checks.push({ key: `user:${userId}`, limit: user.maxSimultaneous, status: 486 }); // RFC 3261 §21.4.24 Busy Here
    }
    if (req.didId !== undefined) {
      const did = await this.#directory.didById(req.didId);
      if (did === undefined || did.accountId !== req.accountId)
        return refuse('CTL_ERR_FORBIDDEN', `did:${req.didId}`, 'unknown DID', 403);
      checks.push({ key: `did:${req.didId}`, limit: did.maxChannels, status: 503 });
    }
    if (req.trunkId !== undefined) {
      const trunk = await this.#directory.trunk(req.trunkId);
      if (trunk === undefined || trunk.accountId !== req.accountId)
        return refuse('CTL_ERR_FORBIDDEN', `trunk:${req.trunkId}`, 'unknown trunk', 403);
      checks.push({ key: `trunk:${req.trunkId}`, limit: trunk.maxChannels, status: 503 });
    }
    return checks;
  }

  async #windowLimits(req: AdmitRequest) {
    const all = await this.#directory.callLimits(req.accountId);
    const users = new Set(req.userIds ?? []);
    return all.filter((l) => {
      if (l.direction !== 'any' && l.direction !== req.direction) return false;
      if (l.scope === 'account') return true;
      if (l.scope === 'user') return l.scopeId !== null && users.has(l.scopeId);
      if (l.scope === 'did') return l.scopeId === req.didId;
      return l.scopeId === req.trunkId;
    });
  }

  /** Release a call's reservation: decrements exactly the counters its admit incremented. */
  release(
    callId: string,
  ): Promise<{ released: boolean; counters: string[]; accountId: string | undefined }> {
    const accountId = this.#callAccount.get(callId);
    if (accountId === undefined)
      return Promise.resolve({ released: false, counters: [], accountId: undefined });
    return this.#actor(accountId).send((state) => {
      const r = state.remove(callId);
      if (this.#callAccount.get(callId) === accountId) this.#callAccount.delete(callId);
      return { released: r !== undefined, counters: r?.counters ?? [], accountId };
    });
  }

  /** Dialog events refresh the reservation's TTL; `terminated` releases it. */
  async dialogEvent(
    callId: string,
    state: 'early' | 'confirmed' | 'refreshed' | 'terminated',
  ): Promise<boolean> {
    if (state === 'terminated') return (await this.release(callId)).released;
    const accountId = this.#callAccount.get(callId);
    if (accountId === undefined) return false;
    return this.#actor(accountId).send((s) => s.refresh(callId, this.#clock.nowMs()));
  }

  #sweepIn(state: AdmissionState, now: number): void {
    for (const id of state.sweep(now)) this.#callAccount.delete(id);
  }

  /** Expire stale reservations in every account (also done lazily on each admit). */
  async sweep(): Promise<number> {
    const now = this.#clock.nowMs();
    let n = 0;
    for (const actor of this.#actors.values()) {
      n += await actor.send((state) => {
        const expired = state.sweep(now);
        for (const id of expired) this.#callAccount.delete(id);
        return expired.length;
      });
    }
    return n;
  }

  async status(accountId?: string): Promise<CacStatus> {
    const ids = accountId === undefined ? [...this.#actors.keys()] : [accountId];
    const accounts = [];
    for (const id of ids) {
      const actor = this.#actors.get(id);
      if (actor !== undefined)
        accounts.push(await actor.send((s) => (this.#sweepIn(s, this.#clock.nowMs()), s.status())));
    }
    return { accounts };
  }

  async reset(accountId?: string): Promise<number> {
    const ids = accountId === undefined ? [...this.#actors.keys()] : [accountId];
    let cleared = 0;
    for (const id of ids) {
      const actor = this.#actors.get(id);
      if (actor === undefined) continue;
      cleared += await actor.send((s) => {
        for (const callId of s.reservations.keys()) this.#callAccount.delete(callId);
        return s.clear();
      });
    }
    return cleared;
  }

  /** Sweep periodically (production); tests call `sweep()` with a manual clock. */
  start(intervalMs = 10_000): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
