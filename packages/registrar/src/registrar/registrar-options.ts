/** Options and events of the Registrar. */
import type { Clock } from '@switchboard/sip-stack';
import type { Binding } from '../location/binding.js';
import type { LocationService, RemovalReason } from '../location/location-service.js';
import type {
  ReachabilityOptions,
  UnreachableReason,
} from '../reachability/reachability-monitor.js';
import type { AorPolicy } from './aor-policy.js';
import type { NatMode } from './nat.js';
import type { RegistrarAuthenticator } from './registrar-authenticator.js';

/** Pino-compatible logger, the subset the registrar uses. */
export interface RegistrarLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RegistrarOptions {
  location: LocationService;
  /** Absent: every REGISTER is accepted unauthenticated (tests, closed networks). */
  authenticator?: RegistrarAuthenticator;
  /** Served domains and users (default openAorPolicy: any user, To domain = Request-URI domain). */
  policy?: AorPolicy;
  /** The location service's clock (default wall clock). */
  clock?: Clock;
  /** Seconds (defaults: 3600, 60, 7200). */
  defaultExpires?: number;
  minExpires?: number;
  maxExpires?: number;
  /** Bindings per AOR (default 10); more → 403. */
  maxBindingsPerAor?: number;
  /** RFC 5626 outbound (default true). */
  outbound?: boolean;
  /** Flow-Timer (seconds) sent in 200 for outbound stream flows (default 120; 0 = none). */
  flowTimer?: number;
  /** NAT detection (default 'auto'). */
  nat?: NatMode;
  /** Qualifies flow keys in a shared location service (default 'local'). */
  nodeId?: string;
  /** Date header value (default: now). */
  date?: () => Date;
  /** Server header of responses. */
  serverHeader?: string;
  /** OPTIONS qualify and keep-alives; started by `registrar.start()`. */
  reachability?: ReachabilityOptions;
  logger?: RegistrarLogger;
}

/** What the control plane turns into presence events. */
export type RegistrarEvents = {
  registered: [binding: Binding];
  refreshed: [binding: Binding, previous: Binding];
  unregistered: [binding: Binding, reason: RemovalReason];
  expired: [binding: Binding];
  reachable: [binding: Binding];
  unreachable: [binding: Binding, reason: UnreachableReason];
};

/** Option tags the registrar understands in Require (RFC 3261 §10.3 step 2). */
export const REGISTRAR_OPTION_TAGS: readonly string[] = Object.freeze(['path', 'outbound']);
