import type { DeviceInfo, Directory, UserInfo } from '../store/directory.js';
import { reject } from './directive.js';
import type { Directive, ForkLeg, ForkPlan } from './directive.js';
import { MAX_CONTINUATION_DEPTH, deeper } from './route-context.js';
import type { Resolution, RouteContext, TargetResolving } from './route-context.js';

export function deviceLeg(
  userId: string,
  d: DeviceInfo,
  step: number,
  delaySec: number,
  timeoutSec: number | null,
): ForkLeg {
  return {
    userId,
    deviceId: d.id,
    aor: `sip:${d.authUsername}@${d.realm}`,
    step,
    delaySec,
    timeoutSec,
    webrtc: d.isWebrtc,
  };
}

/** Devices rung for a user by its ring strategy and ring_order (ring_on_fork devices only, except `specific`). */
export function userFork(user: UserInfo, devices: readonly DeviceInfo[]): ForkPlan {
  const active = devices.filter((d) => d.active);
  const source = { kind: 'user' as const, id: user.id };
  if (user.ringStrategy === 'specific') {
    const d = active.find((x) => x.id === user.ringDeviceId);
    const legs = d === undefined ? [] : [deviceLeg(user.id, d, 0, 0, null)];
    return { strategy: 'parallel', ringTimeoutSec: user.ringTimeoutSec, legs, source };
  }
  const forking = active
    .filter((d) => d.ringOnFork)
    .sort((a, b) => a.ringOrder - b.ringOrder || a.id.localeCompare(b.id));
  if (user.ringStrategy === 'sequential') {
    // each device rings for the user's ring timeout, one after another in ring_order
    const legs = forking.map((d, i) => deviceLeg(user.id, d, i, 0, user.ringTimeoutSec));
    return {
      strategy: 'sequential',
      ringTimeoutSec: user.ringTimeoutSec * Math.max(1, legs.length),
      legs,
      source,
    };
  }
  return {
    strategy: 'parallel',
    ringTimeoutSec: user.ringTimeoutSec,
    legs: forking.map((d) => deviceLeg(user.id, d, 0, 0, null)),
    source,
  };
}

async function continuation(
  resolver: TargetResolving,
  user: UserInfo,
  which: 'busy' | 'noanswer',
  ctx: RouteContext,
): Promise<Directive | null> {
  if (ctx.depth >= MAX_CONTINUATION_DEPTH) return null;
  const fwd = which === 'busy' ? user.fwdBusy : user.fwdNoAnswer;
  if (fwd !== null) return (await resolver.resolve(fwd, deeper(ctx))).directive;
  if (user.voicemailId !== null)
    return (
      await resolver.resolve({ kind: 'voicemail', id: user.voicemailId, xform: null }, deeper(ctx))
    ).directive;
  return null;
}

/**
 * The user call-handling order (issue 4): forward-always; DND → busy target, else voicemail,
 * else reject; ring devices by strategy; no answer → no-answer target, else voicemail.
 */
export async function resolveUser(
  directory: Directory,
  resolver: TargetResolving,
  userId: string,
  ctx: RouteContext,
): Promise<Resolution> {
  const target = { kind: 'user' as const, id: userId };
  const user = await directory.user(userId);
  if (user === undefined || user.accountId !== ctx.accountId) {
    return { directive: reject(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION'), target };
  }
  if (!user.active)
    return { directive: reject(480, 'Temporarily Unavailable', 'CTL_ERR_UNAVAILABLE'), target };
  // RFC 5079 §3: a user refusing anonymous calls answers 433
  if (user.rejectAnonymous && ctx.callerAnonymous)
    return { directive: reject(433, 'Anonymity Disallowed', 'CTL_ERR_FORBIDDEN'), target };
  if (user.fwdAlways !== null) return resolver.resolve(user.fwdAlways, deeper(ctx));
  if (user.dnd) {
    if (user.fwdBusy !== null) return resolver.resolve(user.fwdBusy, deeper(ctx));
    if (user.voicemailId !== null)
      return resolver.resolve(
        { kind: 'voicemail', id: user.voicemailId, xform: null },
        deeper(ctx),
      );
    return { directive: reject(486, 'Busy Here', 'CTL_ERR_UNAVAILABLE'), target }; // RFC 3261 §21.4.24
  }
  const fork = userFork(user, await directory.devicesOfUser(user.id));
  const onNoAnswer = await continuation(resolver, user, 'noanswer', ctx);
  if (fork.legs.length === 0) {
    return {
      directive: onNoAnswer ?? reject(480, 'Temporarily Unavailable', 'CTL_ERR_UNAVAILABLE'),
      target,
    };
  }
  const onBusy = await continuation(resolver, user, 'busy', ctx);
  return {
    directive: { kind: 'proxy', accountId: ctx.accountId, fork, onBusy, onNoAnswer },
    target,
  };
}
