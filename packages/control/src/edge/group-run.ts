/**
 * What the edge's routing steps share: the proxy's afterGroup types (derived from its public
 * RouteDecision), a step that yields forward groups and judges their outcomes, and the tools
 * (brain, registrar, calls, dispatcher) the steps use.
 */
import type {
  ForwardTarget,
  RouteContext,
  RouteDecision as ProxyDecision,
  SipRequest,
} from '@switchboard/sip-stack';
import type { Registrar } from '@switchboard/registrar';
import type { Brain } from '../brain/brain.js';
import type { BrainDigest } from './brain-digest.js';
import type { EdgeCalls } from './edge-calls.js';
import type { EdgeLogger } from './edge-options.js';
import type { TrunkDispatcher } from './trunk-dispatcher.js';

type ForwardDecision = Extract<ProxyDecision, { action: 'forward' }>;
export type AfterGroup = NonNullable<ForwardDecision['afterGroup']>;
export type GroupOutcome = Parameters<AfterGroup>[0];
export type GroupVerdict = Awaited<ReturnType<AfterGroup>>;
export type BranchOutcome = GroupOutcome['branches'][number];
export type ForwardGroups = readonly (readonly ForwardTarget[])[];

/** How a step starts: groups to fork, or a final answer when there is nothing to try. */
export type StepStart =
  | { kind: 'forward'; targets: ForwardGroups }
  | { kind: 'reject'; status: number; reason?: string; headers?: Record<string, string> };

/** One routing step of a call (a fork plan, a trunk list) run as proxy groups. */
export interface GroupStep {
  begin(): Promise<StepStart>;
  /** Judges a group of this step that ended without a 2xx. */
  after(outcome: GroupOutcome): GroupVerdict | Promise<GroupVerdict>;
}

export interface RouteTools {
  brain: Brain;
  registrar: Registrar;
  digest: BrainDigest;
  calls: EdgeCalls;
  trunks: TrunkDispatcher | undefined;
  logger: EdgeLogger;
  now: () => number;
  /** Anchors the call's media if it is not yet and the mode wants it. */
  anchor(request: SipRequest, ctx: RouteContext, calleeNated: boolean): void;
}

/** The proxy decision a step's start becomes. */
export function startDecision(start: StepStart, after: AfterGroup): ProxyDecision {
  if (start.kind === 'reject') {
    return {
      action: 'reject',
      status: start.status,
      ...(start.reason === undefined ? {} : { reason: start.reason }),
      ...(start.headers === undefined ? {} : { headers: start.headers }),
    };
  }
  return { action: 'forward', targets: start.targets, afterGroup: after };
}

/** The verdict a step's start becomes when it follows another step (a continuation). */
export function startVerdict(start: StepStart): GroupVerdict {
  if (start.kind === 'forward') return { action: 'forward', targets: start.targets };
  return {
    action: 'reject',
    status: start.status,
    ...(start.reason === undefined ? {} : { reason: start.reason }),
    ...(start.headers === undefined ? {} : { headers: start.headers }),
  };
}
