import type { DestTarget, Directory } from '../store/directory.js';
import { reject } from './directive.js';
import type { FlowDirective } from './directive.js';
import type { OutboundPlanner } from './outbound-planner.js';
import type { RingGroupPlanner } from './ring-group-plan.js';
import { MAX_ROUTE_DEPTH, deeper } from './route-context.js';
import type { Resolution, RouteContext, TargetResolving } from './route-context.js';
import { resolveUser } from './user-handling.js';

const FLOW_APP = { flow: 'call_flow', queue: 'queue', voicemail: 'voicemail' } as const;

function hangupStatus(xform: Record<string, unknown> | null): { status: number; reason: string } {
  const status = xform?.['status'];
  const reason = xform?.['reason'];
  const ok =
    typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 699;
  return {
    status: ok ? status : 603,
    reason: typeof reason === 'string' && reason.length <= 64 ? reason : 'Decline',
  };
}

/** Turns every `dest_kind` into a directive (issue 4), following extensions and forwards to a depth limit. */
export class TargetResolver implements TargetResolving {
  #directory: Directory;
  #ringGroups: RingGroupPlanner;
  #outbound: OutboundPlanner;

  constructor(directory: Directory, ringGroups: RingGroupPlanner, outbound: OutboundPlanner) {
    this.#directory = directory;
    this.#ringGroups = ringGroups;
    this.#outbound = outbound;
  }

  async resolve(dest: DestTarget, ctx: RouteContext): Promise<Resolution> {
    const target = { kind: dest.kind, id: dest.id };
    if (ctx.depth > MAX_ROUTE_DEPTH)
      return { directive: reject(482, 'Loop Detected', 'CTL_ERR_ROUTING_LOOP'), target };
    const missing = { directive: reject(404, 'Not Found', 'CTL_ERR_UNKNOWN_DESTINATION'), target };
    switch (dest.kind) {
      case 'hangup': {
        const h = hangupStatus(dest.xform);
        return { directive: reject(h.status, h.reason, 'CTL_ERR_FORBIDDEN'), target };
      }
      case 'conference':
        if (dest.id === null) return missing;
        return { directive: this.#flow(ctx, 'conference', dest.id, undefined, dest.xform), target };
      case 'flow':
      case 'queue':
      case 'voicemail': {
        if (dest.id === null) return missing;
        const table = FLOW_APP[dest.kind];
        const t = await this.#directory.target(table, dest.id);
        if (t === undefined || t.accountId !== ctx.accountId) return missing;
        if (!t.active)
          return {
            directive: reject(480, 'Temporarily Unavailable', 'CTL_ERR_UNAVAILABLE'),
            target,
          };
        return { directive: this.#flow(ctx, table, dest.id, t.version, dest.xform), target };
      }
      case 'user':
        return dest.id === null ? missing : resolveUser(this.#directory, this, dest.id, ctx);
      case 'ring_group':
        return dest.id === null ? missing : this.#ringGroups.resolve(this, dest.id, ctx);
      case 'extension': {
        const ext = dest.id === null ? undefined : await this.#directory.extensionById(dest.id);
        if (ext === undefined || ext.accountId !== ctx.accountId) return missing;
        if (!ext.active)
          return {
            directive: reject(480, 'Temporarily Unavailable', 'CTL_ERR_UNAVAILABLE'),
            target,
          };
        return this.resolve(ext.dest, deeper(ctx));
      }
      case 'forward':
        return dest.id === null ? missing : this.#forward(dest.id, ctx);
      case 'trunk': {
        if (dest.id === null) return missing;
        return {
          directive: await this.#outbound.plan(ctx.accountId, ctx.dialled, ctx.callerId, dest.id),
          target,
        };
      }
    }
  }

  /** A forward to an extension of the account follows it; any other number goes out. */
  async #forward(number: string, ctx: RouteContext): Promise<Resolution> {
    const target = { kind: 'forward' as const, id: number };
    const ext = await this.#directory.extension(ctx.accountId, number);
    if (ext !== undefined && ext.active) return this.resolve(ext.dest, deeper(ctx));
    return { directive: await this.#outbound.plan(ctx.accountId, number, ctx.callerId), target };
  }

  #flow(
    ctx: RouteContext,
    app: FlowDirective['app'],
    targetId: string,
    version: number | undefined,
    xform: Record<string, unknown> | null,
  ): FlowDirective {
    const d: FlowDirective = {
      kind: 'flow',
      accountId: ctx.accountId,
      app,
      targetId,
      variables: { ...(xform ?? {}) },
    };
    if (version !== undefined) d.version = version;
    return d;
  }
}
