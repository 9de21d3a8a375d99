import type { DestKind } from './table-spec.js';

/** A route target: where a call goes next (issue 4: `dest_kind` / `dest_id` / `dest_xform`). */
export interface DestTarget {
  kind: DestKind;
  id: string | null;
  xform: Record<string, unknown> | null;
}

export type AccountStatus = 'active' | 'suspended' | 'disabled';

export interface AccountInfo {
  id: string;
  parentId: string | null;
  status: AccountStatus;
  timezone: string;
  maxIn: number | null;
  maxOut: number | null;
  maxDialer: number | null;
  defaultCallerId: string | null;
  defaultDest: DestTarget | null;
}

/** What digest verification needs about a device, with the status of everything above it. */
export interface DeviceCredentials {
  deviceId: string;
  userId: string;
  accountId: string;
  authUsername: string;
  realm: string;
  ha1: string;
  ha1b: string;
  ha1Sha256: string;
  ha1Sha512_256: string;
  deviceActive: boolean;
  userActive: boolean;
  domainActive: boolean;
  accountStatus: AccountStatus;
}

export interface UserInfo {
  id: string;
  accountId: string;
  username: string;
  domain: string;
  displayName: string | null;
  callerIdName: string | null;
  callerIdNumber: string | null;
  maxSimultaneous: number | null;
  ringTimeoutSec: number;
  ringStrategy: 'simultaneous' | 'sequential' | 'specific';
  ringDeviceId: string | null;
  dnd: boolean;
  fwdAlways: DestTarget | null;
  fwdBusy: DestTarget | null;
  fwdNoAnswer: DestTarget | null;
  voicemailId: string | null;
  rejectAnonymous: boolean;
  active: boolean;
}

export interface DeviceInfo {
  id: string;
  authUsername: string;
  realm: string;
  ringOrder: number;
  ringOnFork: boolean;
  isWebrtc: boolean;
  transport: string;
  active: boolean;
}

export interface DidInfo {
  id: string;
  accountId: string;
  number: string;
  active: boolean;
  dest: DestTarget;
  maxChannels: number | null;
  allowAnonymous: boolean;
  scheduleId: string | null;
  closedDest: DestTarget | null;
  holidayDest: DestTarget | null;
}

export interface ExtensionInfo {
  id: string;
  accountId: string;
  number: string;
  dest: DestTarget;
  active: boolean;
}

export interface RingGroupInfo {
  id: string;
  accountId: string;
  strategy: 'ring_all' | 'sequential' | 'round_robin';
  ringTimeoutSec: number;
  memberTimeoutSec: number;
  exitDest: DestTarget | null;
  members: { userId: string; delaySec: number; timeoutSec: number | null }[];
}

export interface ScheduleRule {
  kind: 'weekly' | 'date' | 'date_range';
  weekday: number | null;
  startTime: string | null;
  endTime: string | null;
  startDate: string | null;
  endDate: string | null;
  isClosed: boolean;
}

export interface ScheduleInfo {
  id: string;
  timezone: string;
  rules: ScheduleRule[];
}

/** Per-hop number transform (JSON in `outbound_route_trunk.transform_json`). */
export interface NumberTransform {
  strip?: number;
  prepend?: string;
  add_plus?: boolean;
}

export interface OutboundRouteInfo {
  id: string;
  prefix: string;
  priority: number;
  stripDigits: number;
  prepend: string;
  trunks: { trunkId: string; transform: NumberTransform | null }[];
}

export interface TrunkInfo {
  id: string;
  accountId: string;
  name: string;
  proxyHost: string;
  proxyPort: number | null;
  transport: 'udp' | 'tcp' | 'tls';
  direction: 'inbound' | 'outbound' | 'both';
  authUsername: string | null;
  authSecretRef: string | null;
  callerId: string | null;
  maxChannels: number | null;
  customHeaders: Record<string, string> | null;
  active: boolean;
}

export interface TargetStatus {
  id: string;
  accountId: string;
  active: boolean;
  /** call_flow only. */
  version?: number;
}

export interface CallLimitInfo {
  id: string;
  scope: 'account' | 'user' | 'did' | 'trunk';
  scopeId: string | null;
  direction: 'any' | 'inbound' | 'outbound' | 'internal' | 'dialer';
  windowSec: number;
  maxCalls: number;
}

export interface WalletInfo {
  balanceMicros: number;
  enforce: boolean;
}

/**
 * Typed reads the decisions need, by the keys the edge has. Async so a PostgreSQL (or cached,
 * remote) implementation fits; the SQLite one answers from prepared statements.
 */
export interface Directory {
  deviceCredentials(authUsername: string, realm: string): Promise<DeviceCredentials | undefined>;
  account(id: string): Promise<AccountInfo | undefined>;
  user(id: string): Promise<UserInfo | undefined>;
  userByUsername(accountId: string, username: string): Promise<UserInfo | undefined>;
  devicesOfUser(userId: string): Promise<DeviceInfo[]>;
  didByNumber(number: string): Promise<DidInfo | undefined>;
  didById(id: string): Promise<DidInfo | undefined>;
  extension(accountId: string, number: string): Promise<ExtensionInfo | undefined>;
  extensionById(id: string): Promise<ExtensionInfo | undefined>;
  ringGroup(id: string): Promise<RingGroupInfo | undefined>;
  schedule(id: string): Promise<ScheduleInfo | undefined>;
  /** Active routes of the account, longest prefix first, then priority. */
  outboundRoutes(accountId: string): Promise<readonly OutboundRouteInfo[]>;
  trunk(id: string): Promise<TrunkInfo | undefined>;
  target(table: 'call_flow' | 'queue' | 'voicemail', id: string): Promise<TargetStatus | undefined>;
  callLimits(accountId: string): Promise<readonly CallLimitInfo[]>;
  wallet(accountId: string): Promise<WalletInfo | undefined>;
}
