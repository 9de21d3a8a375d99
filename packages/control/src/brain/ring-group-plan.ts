import type { Directory, RingGroupInfo } from '../store/directory.js';
import { reject } from './directive.js';
import type { ForkLeg, ForkPlan } from './directive.js';
import { MAX_CONTINUATION_DEPTH, deeper } from './route-context.js';
import type { Resolution, RouteContext, TargetResolving } from './route-context.js';
import { deviceLeg } from './user-handling.js';

/**
 * Ring groups: ring_all (every member at once, each after its delay), sequential (members one
 * after another in position order) and round_robin (sequential, starting one further each call).
 * Members that are disabled or on DND are skipped; a member's devices ring together.
 */
export class RingGroupPlanner {
  #directory: Directory;
  #next = new Map<string, number>();

  constructor(directory: Directory) {
    this.#directory = directory;
  }

  async #memberLegs(
    group: RingGroupInfo,
    order: readonly RingGroupInfo['members'][number][],
    ctx: RouteContext,
  ): Promise<ForkLeg[]> {
    const legs: ForkLeg[] = [];
    let step = 0;
    for (const m of order) {
      const user = await this.#directory.user(m.userId);
      if (user === undefined || user.accountId !== ctx.accountId || !user.active || user.dnd)
        continue;
      const devices = (await this.#directory.devicesOfUser(user.id)).filter(
        (d) => d.active && d.ringOnFork,
      );
      if (devices.length === 0) continue;
      const timeout =
        group.strategy === 'ring_all' ? m.timeoutSec : (m.timeoutSec ?? group.memberTimeoutSec);
      const delay = group.strategy === 'ring_all' ? m.delaySec : 0;
      for (const d of devices)
        legs.push(deviceLeg(user.id, d, group.strategy === 'ring_all' ? 0 : step, delay, timeout));
      step++;
    }
    return legs;
  }

  #order(group: RingGroupInfo): RingGroupInfo['members'] {
    if (group.strategy !== 'round_robin' || group.members.length === 0) return group.members;
    const start = (this.#next.get(group.id) ?? 0) % group.members.length;
    this.#next.set(group.id, start + 1);
    return [...group.members.slice(start), ...group.members.slice(0, start)];
  }

  async resolve(
    resolver: TargetResolving,
    groupId: string,
    ctx: RouteContext,
  ): Promise<Resolution> {
    const target = { kind: 'ring_group' as const, id: groupId };
    const group = await this.#directory.ringGroup(groupId);
    if (group === undefined || group.accountId !== ctx.accountId) {
      return { directive: reject(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION'), target };
    }
    const legs = await this.#memberLegs(group, this.#order(group), ctx);
    const exit =
      group.exitDest !== null && ctx.depth < MAX_CONTINUATION_DEPTH
        ? (await resolver.resolve(group.exitDest, deeper(ctx))).directive
        : null;
    if (legs.length === 0)
      return {
        directive: exit ?? reject(480, 'Temporarily Unavailable', 'CTL_ERR_UNAVAILABLE'),
        target,
      };
    const fork: ForkPlan = {
      strategy: group.strategy === 'ring_all' ? 'parallel' : 'sequential',
      ringTimeoutSec: group.ringTimeoutSec,
      legs,
      source: { kind: 'ring_group', id: group.id },
    };
    return {
      directive: { kind: 'proxy', accountId: ctx.accountId, fork, onBusy: null, onNoAnswer: exit },
      target,
    };
  }
}
