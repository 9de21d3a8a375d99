import type { Directive } from './directive.js';
import type { DestTarget } from '../store/directory.js';
import type { DestKind } from '../store/table-spec.js';

/** What target resolution knows about the call being routed. */
export interface RouteContext {
  accountId: string;
  /** What was dialled (used by trunk targets and as the default outbound number). */
  dialled: string;
  /** Caller number to present on outbound hops. */
  callerId: string | null;
  callerAnonymous: boolean;
  nowMs: number;
  /** Resolution depth: extensions, forwards and continuations each add one. */
  depth: number;
}

export interface Resolution {
  directive: Directive;
  target: { kind: DestKind; id: string | null } | undefined;
}

/** Resolves a route target to a directive; implemented by TargetResolver, used by the planners. */
export interface TargetResolving {
  resolve(target: DestTarget, ctx: RouteContext): Promise<Resolution>;
}

/** Deeper than this is a loop (extension → forward → extension ...). */
export const MAX_ROUTE_DEPTH = 8;
/** Continuations (busy / no answer) are resolved only this deep, to keep plans small. */
export const MAX_CONTINUATION_DEPTH = 4;

export function deeper(ctx: RouteContext): RouteContext {
  return { ...ctx, depth: ctx.depth + 1 };
}
