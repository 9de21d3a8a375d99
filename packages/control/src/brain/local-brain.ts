import type { Directory } from '../store/directory.js';
import type { CdrStart } from '../store/records-store.js';
import type { WallClock } from '../util/wall-clock.js';
import { systemWallClock } from '../util/wall-clock.js';
import { AdmissionController } from './admission/admission-controller.js';
import { Authenticator } from './authenticator.js';
import type {
  AdmitDecision,
  AdmitRequest,
  AuthDecision,
  AuthRequest,
  Brain,
  CacStatus,
  PresenceAck,
  PresenceEvent,
  ReleaseRequest,
  ReleaseResult,
  RouteRequest,
} from './brain.js';
import type { CallRecorder } from './call-recorder.js';
import type { RouteDecision } from './directive.js';
import { PresenceTracker } from './presence-tracker.js';
import { RouteEngine } from './route-engine.js';

export interface LocalBrainOptions {
  directory: Directory;
  clock?: WallClock;
  /** When given, routed calls get CDRs and a call_event trace. */
  recorder?: CallRecorder;
  defaultTtlSec?: number;
}

function cdrStart(req: RouteRequest, d: RouteDecision): Omit<CdrStart, 'startedAt'> | undefined {
  if (d.accountId === null || d.direction === null) return undefined;
  const directive = d.directive;
  const userId =
    d.direction === 'inbound'
      ? d.target?.kind === 'user'
        ? (d.target.id ?? undefined)
        : undefined
      : req.caller?.userId;
  return {
    callId: req.callId,
    accountId: d.accountId,
    direction: d.direction,
    fromNumber: req.from.user,
    toNumber: directive.kind === 'outbound' ? directive.number : req.to.user,
    userId,
    didId: d.didId,
    trunkId: directive.kind === 'outbound' ? directive.trunks[0]?.trunkId : req.trunkId,
  };
}

/** The brain in-process: direct calls, the default single-node carrier. */
export class LocalBrain implements Brain {
  readonly admission: AdmissionController;
  readonly presence = new PresenceTracker();
  #auth: Authenticator;
  #router: RouteEngine;
  #recorder: CallRecorder | undefined;

  constructor(options: LocalBrainOptions) {
    const clock = options.clock ?? systemWallClock;
    this.#auth = new Authenticator(options.directory);
    this.#router = new RouteEngine(options.directory, clock);
    const admission = { directory: options.directory, clock } as ConstructorParameters<
      typeof AdmissionController
    >[0];
    if (options.defaultTtlSec !== undefined) admission.defaultTtlSec = options.defaultTtlSec;
    this.admission = new AdmissionController(admission);
    this.#recorder = options.recorder;
  }

  authenticate(req: AuthRequest): Promise<AuthDecision> {
    return this.#auth.authenticate(req);
  }

  async route(req: RouteRequest): Promise<RouteDecision> {
    const decision = await this.#router.route(req);
    const start = this.#recorder === undefined ? undefined : cdrStart(req, decision);
    if (start !== undefined && this.#recorder !== undefined) {
      this.#recorder.started(start);
      this.#recorder.event(start.accountId, req.callId, 'routed', decision.directive.kind);
    }
    return decision;
  }

  async presenceEvent(event: PresenceEvent): Promise<PresenceAck> {
    if (event.type === 'dialog') {
      const known = await this.admission.dialogEvent(event.callId, event.state);
      return { ok: true, known };
    }
    const p = this.presence;
    if (event.type === 'registered') p.registered(event.userId, event.deviceId);
    else if (event.type === 'unregistered') p.unregistered(event.userId, event.deviceId);
    else if (event.type === 'reachable') p.reachable(event.userId, event.deviceId);
    else p.unreachable(event.userId, event.deviceId);
    return { ok: true, known: true };
  }

  admit(req: AdmitRequest): Promise<AdmitDecision> {
    return this.admission.admit(req);
  }

  async release(req: ReleaseRequest): Promise<ReleaseResult> {
    const r = await this.admission.release(req.callId);
    if (req.end !== undefined && this.#recorder !== undefined)
      await this.#recorder.ended(req.callId, req.end);
    return { ok: true, released: r.released, counters: r.counters };
  }

  /** Write queued CDRs and stop timers; call before closing the store. */
  async close(): Promise<void> {
    this.admission.stop();
    await this.#recorder?.flush();
  }

  cacStatus(accountId?: string): Promise<CacStatus> {
    return this.admission.status(accountId);
  }

  async cacReset(accountId?: string): Promise<{ ok: true; cleared: number }> {
    return { ok: true, cleared: await this.admission.reset(accountId) };
  }
}
