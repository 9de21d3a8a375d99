import type { AccountInfo, DestTarget, DidInfo, Directory } from '../store/directory.js';
import type { WallClock } from '../util/wall-clock.js';
import type { RouteRequest } from './brain.js';
import { evaluateSchedule } from './business-hours.js';
import { reject } from './directive.js';
import type { RouteDecision } from './directive.js';
import { didForm, isAnonymousCaller, normalizeNumber } from './number-format.js';
import { OutboundPlanner } from './outbound-planner.js';
import { RingGroupPlanner } from './ring-group-plan.js';
import type { RouteContext } from './route-context.js';
import { TargetResolver } from './target-resolver.js';

const MAX_PART = 256;

function refused(
  status: number,
  reason: string,
  code: Parameters<typeof reject>[2],
  accountId?: string,
): RouteDecision {
  return {
    direction: null,
    accountId: accountId ?? null,
    target: null,
    directive: reject(status, reason, code),
  };
}

function badShape(req: RouteRequest): string | undefined {
  const parts = [
    req.callId,
    req.to?.user,
    req.to?.host,
    req.from?.user,
    req.from?.host,
  ] as unknown[];
  if (parts.some((p) => typeof p !== 'string' || p.length > MAX_PART))
    return 'callId, to and from must be strings';
  if (
    req.caller !== undefined &&
    (typeof req.caller.accountId !== 'string' || typeof req.caller.userId !== 'string')
  ) {
    return 'caller must name accountId and userId';
  }
  return undefined;
}

/**
 * Where a call goes (issue 4): inbound when the dialled number is one of our DIDs; internal when
 * an authenticated caller dials an extension or user of its account; outbound when it dials a PSTN
 * number. Unknown numbers, devices and accounts are refusals, never exceptions.
 */
export class RouteEngine {
  #directory: Directory;
  #clock: WallClock;
  #resolver: TargetResolver;
  #outbound: OutboundPlanner;

  constructor(directory: Directory, clock: WallClock) {
    this.#directory = directory;
    this.#clock = clock;
    this.#outbound = new OutboundPlanner(directory);
    this.#resolver = new TargetResolver(directory, new RingGroupPlanner(directory), this.#outbound);
  }

  async route(req: RouteRequest): Promise<RouteDecision> {
    const problem = badShape(req);
    if (problem !== undefined) return refused(400, 'Bad Request', 'CTL_ERR_VALIDATION');
    const didNumber = didForm(req.to.user);
    const did = didNumber === undefined ? undefined : await this.#directory.didByNumber(didNumber);
    if (did !== undefined) return this.#inbound(req, did);
    if (req.caller !== undefined)
      return this.#fromUser(req, req.caller.accountId, req.caller.userId);
    if (req.trunkId !== undefined) return refused(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION');
    // not our number and nobody authenticated: the edge should challenge (RFC 3261 §22.3)
    return refused(407, 'Proxy Authentication Required', 'CTL_ERR_UNAUTHORIZED');
  }

  async #activeAccount(id: string): Promise<AccountInfo | RouteDecision> {
    const account = await this.#directory.account(id);
    if (account === undefined) return refused(403, 'Forbidden', 'CTL_ERR_NOT_FOUND', id);
    if (account.status !== 'active')
      return refused(403, 'Forbidden', 'CTL_ERR_ACCOUNT_DISABLED', id);
    return account;
  }

  #context(
    accountId: string,
    dialled: string,
    callerId: string | null,
    anonymous: boolean,
  ): RouteContext {
    return {
      accountId,
      dialled,
      callerId,
      callerAnonymous: anonymous,
      nowMs: this.#clock.nowMs(),
      depth: 0,
    };
  }

  async #inbound(req: RouteRequest, did: DidInfo): Promise<RouteDecision> {
    if (!did.active) return refused(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION', did.accountId);
    const account = await this.#activeAccount(did.accountId);
    if (!('maxIn' in account)) return account;
    const anonymous = isAnonymousCaller(req.from, req.privacy);
    if (anonymous && !did.allowAnonymous) {
      // RFC 5079 §3: anonymous calls refused with 433
      return {
        direction: 'inbound',
        accountId: account.id,
        target: null,
        didId: did.id,
        directive: reject(433, 'Anonymity Disallowed', 'CTL_ERR_FORBIDDEN'),
      };
    }
    const ctx = this.#context(account.id, did.number, anonymous ? null : req.from.user, anonymous);
    const dest = await this.#scheduledDest(did, ctx.nowMs);
    const r = await this.#resolver.resolve(dest, ctx);
    return {
      direction: 'inbound',
      accountId: account.id,
      target: r.target ?? null,
      didId: did.id,
      directive: r.directive,
    };
  }

  /** Business hours: closed → closed target; holiday → holiday target, else closed target. Fails open. */
  async #scheduledDest(did: DidInfo, nowMs: number): Promise<DestTarget> {
    if (did.scheduleId === null) return did.dest;
    const verdict = evaluateSchedule(await this.#directory.schedule(did.scheduleId), nowMs);
    if (verdict.state === 'holiday') return did.holidayDest ?? did.closedDest ?? did.dest;
    if (verdict.state === 'closed') return did.closedDest ?? did.dest;
    return did.dest;
  }

  async #fromUser(req: RouteRequest, accountId: string, userId: string): Promise<RouteDecision> {
    const account = await this.#activeAccount(accountId);
    if (!('maxIn' in account)) return account;
    const caller = await this.#directory.user(userId);
    if (caller === undefined || caller.accountId !== accountId || !caller.active) {
      return refused(403, 'Forbidden', 'CTL_ERR_FORBIDDEN', accountId);
    }
    const anonymous = isAnonymousCaller(req.from, req.privacy);
    const callerId = caller.callerIdNumber ?? account.defaultCallerId ?? caller.username;
    const ctx = this.#context(accountId, req.to.user, callerId, anonymous);
    const ext = await this.#directory.extension(accountId, req.to.user);
    if (ext !== undefined && ext.active) {
      const r = await this.#resolver.resolve(ext.dest, { ...ctx, depth: 1 });
      return { direction: 'internal', accountId, target: r.target ?? null, directive: r.directive };
    }
    const user = await this.#directory.userByUsername(accountId, req.to.user);
    if (user !== undefined) {
      const r = await this.#resolver.resolve({ kind: 'user', id: user.id, xform: null }, ctx);
      return { direction: 'internal', accountId, target: r.target ?? null, directive: r.directive };
    }
    if (normalizeNumber(req.to.user) !== undefined) {
      const directive = await this.#outbound.plan(accountId, req.to.user, callerId);
      return { direction: 'outbound', accountId, target: null, directive };
    }
    return refused(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION', accountId);
  }
}
