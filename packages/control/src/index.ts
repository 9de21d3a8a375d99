// Public entry of @switchboard/control. Named exports only, grouped by layer:
// errors → store → brain (decisions) → http carriers → public API → server / CLI.

// --- errors ---
export { CTL_ERRORS, CtlError, httpStatusOf, isCtlErrorCode } from './errors/ctl-errors.js';
export type { CtlErrorCode, CtlErrorBody, Result } from './errors/ctl-errors.js';

// --- util ---
export { newId, isIdOf, ID_PREFIXES } from './util/ids.js';
export type { IdPrefix } from './util/ids.js';
export { systemWallClock, ManualWallClock } from './util/wall-clock.js';
export type { WallClock } from './util/wall-clock.js';

// --- store ---
export type {
  ConfigStore,
  TableRepository,
  ListQuery,
  Page,
  PublicRow,
  WriteOutcome,
} from './store/config-store.js';
export type {
  Directory,
  DestTarget,
  AccountInfo,
  AccountStatus,
  DeviceCredentials,
  UserInfo,
  DeviceInfo,
  DidInfo,
  ExtensionInfo,
  RingGroupInfo,
  ScheduleInfo,
  ScheduleRule,
  NumberTransform,
  OutboundRouteInfo,
  TrunkInfo,
  TargetStatus,
  CallLimitInfo,
  WalletInfo,
} from './store/directory.js';
export type { SecretStore } from './store/secret-store.js';
export type { ApiKeyStore, ApiKeyPrincipal } from './store/api-key-store.js';
export type {
  RecordsStore,
  CdrRow,
  CdrStart,
  CdrEnd,
  CallQuery,
  RateInfo,
  CallEventRow,
  CallEventInput,
} from './store/records-store.js';
export type {
  BulkImporter,
  ImportDocument,
  ImportOptions,
  ImportReport,
  SubscriberInput,
} from './store/bulk-import.js';
export type { WebhookQueue, WebhookDelivery } from './store/webhook-queue.js';
export type { TableSpec, ColumnSpec, Scope, DestKind, TableName } from './store/table-spec.js';
export { SCOPES, DEST_KINDS, TABLE_NAMES } from './store/table-spec.js';
export { TABLE_SPECS, specOf } from './store/table-specs.js';
export { MIGRATIONS, migrate, schemaVersion } from './store/migrations.js';
export type { Migration, MigrationReport } from './store/migrations.js';
export {
  loadMasterKey,
  parseMasterKey,
  MASTER_KEY_ENV,
  MASTER_KEY_FILE,
} from './store/master-key.js';
export type { MasterKey } from './store/master-key.js';
export { CachingDirectory } from './store/caching-directory.js';
export type { CachingDirectoryOptions } from './store/caching-directory.js';
export { openDatabase, DATABASE_FILE } from './store/sqlite/open-database.js';
export { SqliteConfigStore } from './store/sqlite/sqlite-config-store.js';
export type { SqliteConfigStoreOptions } from './store/sqlite/sqlite-config-store.js';

// --- brain (decisions) ---
export type {
  Brain,
  AuthRequest,
  AuthDecision,
  RouteRequest,
  CallParty,
  AdmitRequest,
  AdmitDecision,
  AdmitDirection,
  ReleaseRequest,
  ReleaseResult,
  CallEnd,
  PresenceEvent,
  PresenceAck,
  CacStatus,
  AccountCacStatus,
  CounterStatus,
  DigestAlgorithmName,
} from './brain/brain.js';
export type {
  Directive,
  ProxyDirective,
  FlowDirective,
  OutboundDirective,
  RejectDirective,
  ForkPlan,
  ForkLeg,
  TrunkHop,
  RouteDecision,
  CallDirectionKind,
} from './brain/directive.js';
export { LocalBrain } from './brain/local-brain.js';
export type { LocalBrainOptions } from './brain/local-brain.js';
export { evaluateSchedule } from './brain/business-hours.js';
export type { ScheduleState, ScheduleVerdict } from './brain/business-hours.js';
export { AdmissionController } from './brain/admission/admission-controller.js';
export { CallRecorder } from './brain/call-recorder.js';
export type { CallWebhookEvent, CallEventListener } from './brain/call-recorder.js';
export { priceCall } from './brain/rate-engine.js';
export {
  WebhookDispatcher,
  signWebhook,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  EVENT_HEADER,
} from './brain/webhook-dispatcher.js';
export type { WebhookSender, WebhookDispatcherOptions } from './brain/webhook-dispatcher.js';

// --- http carriers ---
export { HttpBrain } from './http/http-brain.js';
export type { HttpBrainOptions } from './http/http-brain.js';
export { registerBrainRoutes, NODE_TOKEN_HEADER } from './http/brain-routes.js';

// --- public API, server, CLI ---
export { registerPublicApi } from './api/public-api.js';
export { createHttpApp } from './server/http-app.js';
export type { HttpAppOptions } from './server/http-app.js';
export { startSwitchboard } from './server/switchboard-server.js';
export type {
  RunningSwitchboard,
  ServerComponent,
  StartOptions,
} from './server/switchboard-server.js';
export { loadConfig, DEFAULT_CONFIG } from './cli/config.js';
export type { SwitchboardConfig, LogLevel } from './cli/config.js';
export { runCli } from './cli/run-cli.js';

// The SIP edge and its parts (embedding: build your own node around them).
export { EdgeNode } from './edge/edge-node.js';
export type { EdgeNodeDeps } from './edge/edge-node.js';
export type {
  EdgeOptions,
  EdgeMediaOptions,
  MediaMode,
  OutboundMode,
} from './edge/edge-options.js';
export { TrunkDispatcher } from './edge/trunk-dispatcher.js';
export type { TrunkDispatcherOptions } from './edge/trunk-dispatcher.js';
export { formatEdgeMetrics, EdgeCounters } from './edge/edge-metrics.js';
export type { EdgeSnapshot, RelaySnapshot } from './edge/edge-metrics.js';
export { B2buaGateway } from './b2bua-bridge/b2bua-gateway.js';
export type { B2buaGatewayOptions } from './b2bua-bridge/b2bua-gateway.js';
export { NativeMediaRelay } from './b2bua-bridge/native-media-relay.js';
export { startEdgeNodeServer } from './server/edge-node-server.js';
export type { RunningEdgeNode } from './server/edge-node-server.js';
export { createEdgeService } from './server/edge-service.js';
export type { EdgeService } from './server/edge-service.js';
export type { RunningNode } from './server/node-runtime.js';
export { registerOpsRoutes } from './server/ops-routes.js';
export type { HealthReport } from './server/ops-routes.js';
export { runSwitchboardCluster } from './cluster/cluster-primary.js';
export type { RunningCluster } from './cluster/cluster-primary.js';
