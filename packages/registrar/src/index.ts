// Public entry of @switchboard/registrar. Named exports only, grouped by layer
// (location → registrar → reachability).

// --- util ---
export { wallClock } from './util/wall-clock.js';

// --- location ---
export type { Binding, AuthIdentity, ReceivedAddress } from './location/binding.js';
export { compareBindings, remainingSeconds } from './location/binding.js';
export type {
  LocationService,
  LocationEvents,
  LocationListener,
  RemovalReason,
  BindingOp,
  BindingChange,
  ApplyResult,
} from './location/location-service.js';
export { LocationErrorCode } from './location/location-service.js';
export type { MemoryLocationServiceOptions } from './location/memory-location-service.js';
export { MemoryLocationService } from './location/memory-location-service.js';
export type { RedisLocationServiceOptions } from './location/redis-location-service.js';
export { RedisLocationService } from './location/redis-location-service.js';

// --- registrar ---
export type { Aor, AorResult } from './registrar/aor.js';
export { canonicalAor, contactUriKey } from './registrar/aor.js';
export type { AorPolicy, AorDecision, StaticAorPolicyOptions } from './registrar/aor-policy.js';
export { StaticAorPolicy, openAorPolicy } from './registrar/aor-policy.js';
export type {
  RegistrarAuthenticator,
  AuthContext,
  AuthOutcome,
  RegistrarCredentials,
  CredentialsLookup,
  DigestRegistrarAuthenticatorOptions,
} from './registrar/registrar-authenticator.js';
export { DigestRegistrarAuthenticator, sameUser } from './registrar/registrar-authenticator.js';
export type { NatMode, BindingRoute } from './registrar/nat.js';
export { routeBinding, uriTarget, withContactAlias, contactAliasTarget } from './registrar/nat.js';
export type { ExpiryLimits } from './registrar/register-contacts.js';
export type {
  RegistrarOptions,
  RegistrarEvents,
  RegistrarLogger,
} from './registrar/registrar-options.js';
export { REGISTRAR_OPTION_TAGS } from './registrar/registrar-options.js';
export { Registrar } from './registrar/registrar.js';
export { attachRegistrar } from './registrar/attach-registrar.js';

// --- reachability ---
export type {
  QualifyClient,
  QualifyResult,
  QualifyTransactions,
  OptionsQualifyClientOptions,
} from './reachability/qualify-client.js';
export { OptionsQualifyClient } from './reachability/qualify-client.js';
export type {
  ReachabilityOptions,
  ReachabilityMonitorOptions,
  ReachabilityEvents,
  ReachabilityState,
  UnreachableReason,
  KeepAliveSender,
} from './reachability/reachability-monitor.js';
export { ReachabilityMonitor } from './reachability/reachability-monitor.js';
