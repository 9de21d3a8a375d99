/**
 * A `proxy` directive run on the proxy path: its fork plan step by step (legs of a step in
 * parallel, each bounded by its leg timeout and the plan's ring timeout), then the directive's
 * continuations: `onBusy` when every branch was busy, `onNoAnswer` when the plan rang out. A
 * continuation that is itself `proxy` or `outbound` becomes further forward groups; a `flow`
 * continuation (voicemail, a call flow) needs the B2BUA and ends the call with 486/480.
 */
import type { ForwardTarget, RouteContext, SipRequest } from '@switchboard/sip-stack';
import type { Binding } from '@switchboard/registrar';
import type { Directive, ForkLeg, ProxyDirective } from '../brain/directive.js';
import type {
  BranchOutcome,
  GroupOutcome,
  GroupStep,
  GroupVerdict,
  RouteTools,
  StepStart,
} from './group-run.js';
import { startVerdict } from './group-run.js';
import { OutboundStep } from './outbound-route.js';

/** Continuations followed at most this deep (the brain bounds its own chains too). */
export const MAX_CONTINUATIONS = 4;

/** RFC 3261 §21.4.24 / §21.6.1 / §21.6.4: answers that mean "busy". */
const BUSY = new Set([486, 600, 603]);
/** RFC 3261 §21.4.9 / §21.4.18 / §21.4.26: answers that mean "nobody answered". */
const NO_ANSWER = new Set([408, 480, 487]);

export type PlanResult = 'busy' | 'no_answer' | 'failed';

/**
 * What a finished plan means for its continuations. Busy: a device said so and every other one
 * was busy too or never reached (a stale binding that never answers, a dead flow), whether or
 * not the ring time passed meanwhile: nobody rang (RFC 3261 §16.7 item 6 would also prefer the
 * 486 over our own 408/503).
 */
export function planResult(branches: readonly BranchOutcome[], rangOut: boolean): PlanResult {
  const busy = (b: BranchOutcome): boolean => !b.synthetic && BUSY.has(b.response.status);
  const gone = (b: BranchOutcome): boolean => b.synthetic && !b.reached;
  if (branches.some(busy) && branches.every((b) => busy(b) || gone(b))) return 'busy';
  if (rangOut) return 'no_answer';
  // A device that cannot be reached (timeout, dead flow) did not answer either.
  const quiet = (b: BranchOutcome): boolean =>
    b.synthetic || b.timedOut || NO_ANSWER.has(b.response.status) || BUSY.has(b.response.status);
  return branches.length > 0 && branches.every(quiet) ? 'no_answer' : 'failed';
}

/** A branch to a binding: its Contact as Request-URI, its NAT/flow target, its Path as Route. */
export function bindingTarget(
  b: Binding,
  headers: Record<string, readonly string[]>,
): ForwardTarget {
  const h: Record<string, readonly string[]> = { ...headers };
  // RFC 3327 §5.3: requests to a binding registered through proxies carry its Path as Route.
  if (b.path !== undefined && b.path.length > 0) h['Route'] = b.path;
  return { uri: b.uri, ...(b.target === undefined ? {} : { target: b.target }), headers: h };
}

interface Step {
  legs: { leg: ForkLeg; bindings: readonly Binding[] }[];
}

export class ForkStep implements GroupStep {
  readonly #t: RouteTools;
  readonly #request: SipRequest;
  readonly #ctx: RouteContext;
  readonly #d: ProxyDirective;
  readonly #depth: number;
  readonly #seen: BranchOutcome[] = [];
  #steps: Step[] = [];
  #deadline = 0;
  /** The continuation running after the plan, once there is one. */
  #next: GroupStep | undefined;

  constructor(
    tools: RouteTools,
    request: SipRequest,
    ctx: RouteContext,
    directive: ProxyDirective,
    depth = 0,
  ) {
    this.#t = tools;
    this.#request = request;
    this.#ctx = ctx;
    this.#d = directive;
    this.#depth = depth;
  }

  async begin(): Promise<StepStart> {
    const steps = new Map<number, Step>();
    for (const leg of [...this.#d.fork.legs].sort((x, y) => x.step - y.step)) {
      const bindings = await this.#t.registrar.lookup(leg.aor);
      if (bindings.length === 0) continue;
      const step = steps.get(leg.step) ?? { legs: [] };
      step.legs.push({ leg, bindings });
      steps.set(leg.step, step);
    }
    this.#steps = [...steps.values()];
    const ring = this.#d.fork.ringTimeoutSec;
    this.#deadline = ring > 0 ? this.#t.now() + ring * 1000 : Number.POSITIVE_INFINITY;
    const first = this.#nextGroup();
    if (first === undefined) {
      // Nobody registered: RFC 3261 §21.4.18 480 unless the no-answer continuation can go on.
      const next = await this.#continuation('no_answer');
      if (next.action === 'forward') return { kind: 'forward', targets: next.targets };
      if (next.action === 'reject')
        return { kind: 'reject', status: next.status, ...reasonOf(next) };
      return { kind: 'reject', status: 480 };
    }
    const nated = first.some((b) => b.binding.received !== undefined);
    if (this.#request.method === 'INVITE') this.#t.anchor(this.#request, this.#ctx, nated);
    return { kind: 'forward', targets: [first.map((b) => this.#target(b))] };
  }

  async after(outcome: GroupOutcome): Promise<GroupVerdict> {
    if (this.#next !== undefined) return this.#next.after(outcome);
    this.#seen.push(...outcome.branches);
    const sixxx = outcome.branches.some((b) => b.response.status >= 600);
    const rangOut = this.#t.now() >= this.#deadline;
    if (!sixxx && !rangOut) {
      const group = this.#nextGroup();
      if (group !== undefined)
        return { action: 'forward', targets: [group.map((b) => this.#target(b))] };
    }
    const result = planResult(this.#seen, rangOut);
    if (result === 'failed') return { action: 'continue' };
    return this.#continuation(result);
  }

  /** The directive's continuation for a plan that ended busy or unanswered. */
  async #continuation(result: 'busy' | 'no_answer'): Promise<GroupVerdict> {
    const directive = result === 'busy' ? this.#d.onBusy : this.#d.onNoAnswer;
    // RFC 3261 §21.4.18: a plan that rang out answers 480, not the 487 our CANCEL brought back.
    const plain: GroupVerdict =
      result === 'busy' ? { action: 'continue' } : { action: 'reject', status: 480 };
    if (directive === null || this.#depth + 1 > MAX_CONTINUATIONS) return plain;
    const step = this.#stepFor(directive);
    if (step === undefined) {
      if (directive.kind === 'reject')
        return { action: 'reject', status: directive.status, reason: directive.reason };
      this.#t.logger.info(
        { callId: this.#request.callId, continuation: directive.kind, result },
        'continuation needs the B2BUA; answering the caller instead',
      );
      return { action: 'reject', status: result === 'busy' ? 486 : 480 };
    }
    this.#t.logger.debug(
      { callId: this.#request.callId, continuation: directive.kind, result },
      'continuation',
    );
    this.#next = step;
    return startVerdict(await step.begin());
  }

  #stepFor(directive: Directive): GroupStep | undefined {
    if (directive.kind === 'proxy')
      return new ForkStep(this.#t, this.#request, this.#ctx, directive, this.#depth + 1);
    if (directive.kind === 'outbound')
      return new OutboundStep(this.#t, this.#request, this.#ctx, directive);
    return undefined;
  }

  /** The bindings of the next step, each with its timeout; undefined when none is left. */
  #nextGroup(): { binding: Binding; timeoutMs: number }[] | undefined {
    const step = this.#steps.shift();
    if (step === undefined) return undefined;
    const left = Math.max(0, this.#deadline - this.#t.now());
    return step.legs.flatMap(({ leg, bindings }) => {
      // The plan's ring timeout bounds every leg; a leg may give up sooner.
      const own = leg.timeoutSec === null ? left : Math.min(left, leg.timeoutSec * 1000);
      return bindings.map((binding) => ({ binding, timeoutMs: own }));
    });
  }

  #target(b: { binding: Binding; timeoutMs: number }): ForwardTarget {
    const others = this.#t.digest.otherCredentials(this.#request);
    const target = bindingTarget(b.binding, { 'Proxy-Authorization': others });
    if (this.#request.method === 'INVITE' && Number.isFinite(b.timeoutMs))
      target.timeoutMs = b.timeoutMs;
    return target;
  }
}

function reasonOf(v: { reason?: string }): { reason?: string } {
  return v.reason === undefined ? {} : { reason: v.reason };
}
