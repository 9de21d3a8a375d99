import type { Database, Statement } from 'better-sqlite3';
import type {
  AccountInfo,
  CallLimitInfo,
  DestTarget,
  DeviceCredentials,
  DeviceInfo,
  DidInfo,
  Directory,
  ExtensionInfo,
  NumberTransform,
  OutboundRouteInfo,
  RingGroupInfo,
  ScheduleInfo,
  TargetStatus,
  TrunkInfo,
  UserInfo,
  WalletInfo,
} from '../directory.js';
import type { DestKind } from '../table-spec.js';

type R = Record<string, unknown>;

function parseJson<T>(text: unknown): T | null {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

function destOf(row: R, p: string): DestTarget | null {
  const kind = row[`${p}dest_kind`];
  if (typeof kind !== 'string') return null;
  const id = row[`${p}dest_id`];
  return {
    kind: kind as DestKind,
    id: typeof id === 'string' ? id : null,
    xform: parseJson(row[`${p}dest_xform`]),
  };
}

const n = (v: unknown): number | null => (typeof v === 'number' ? v : null);
const s = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function toUser(r: R): UserInfo {
  return {
    id: String(r['id']),
    accountId: String(r['account_id']),
    username: String(r['username']),
    domain: String(r['domain']),
    displayName: s(r['display_name']),
    callerIdName: s(r['caller_id_name']),
    callerIdNumber: s(r['caller_id_number']),
    maxSimultaneous: n(r['max_simultaneous']),
    ringTimeoutSec: Number(r['ring_timeout_sec']),
    ringStrategy: r['ring_strategy'] as UserInfo['ringStrategy'],
    ringDeviceId: s(r['ring_device_id']),
    dnd: r['dnd'] === 1,
    fwdAlways: destOf(r, 'fwd_always_'),
    fwdBusy: destOf(r, 'fwd_busy_'),
    fwdNoAnswer: destOf(r, 'fwd_noanswer_'),
    voicemailId: s(r['voicemail_id']),
    rejectAnonymous: r['reject_anonymous'] === 1,
    active: r['status'] === 'active',
  };
}

const USER_SQL = 'SELECT u.*, d.domain FROM sip_user u JOIN sip_domain d ON d.id = u.domain_id';

/** Decision reads from SQLite prepared statements. Outbound routes are cached until the next write. */
export class SqliteDirectory implements Directory {
  #q: Record<string, Statement<unknown[], R>>;
  #routes = new Map<string, readonly OutboundRouteInfo[]>();

  constructor(db: Database) {
    const p = (sql: string) => db.prepare<unknown[], R>(sql);
    this.#q = {
      cred: p(`SELECT v.id AS device_id, v.user_id, v.account_id, v.auth_username, v.realm, v.ha1, v.ha1b, v.ha1_sha256,
                 v.ha1_sha512_256, v.status AS device_status, u.status AS user_status, d.status AS domain_status,
                 a.status AS account_status
               FROM sip_device v JOIN sip_user u ON u.id = v.user_id JOIN sip_domain d ON d.id = u.domain_id
               JOIN account a ON a.id = v.account_id WHERE v.auth_username = ? AND v.realm = ?`),
      account: p('SELECT * FROM account WHERE id = ?'),
      user: p(`${USER_SQL} WHERE u.id = ?`),
      userByName: p(`${USER_SQL} WHERE u.account_id = ? AND u.username = ? ORDER BY u.id LIMIT 1`),
      devices: p('SELECT * FROM sip_device WHERE user_id = ? ORDER BY ring_order, id'),
      did: p('SELECT * FROM did WHERE number = ?'),
      didById: p('SELECT * FROM did WHERE id = ?'),
      ext: p('SELECT * FROM extension WHERE account_id = ? AND number = ?'),
      extById: p('SELECT * FROM extension WHERE id = ?'),
      rg: p('SELECT * FROM ring_group WHERE id = ?'),
      rgMembers: p(
        'SELECT user_id, delay_sec, timeout_sec FROM ring_group_member WHERE ring_group_id = ? ORDER BY position',
      ),
      sch: p('SELECT * FROM time_schedule WHERE id = ?'),
      schRules: p('SELECT * FROM time_schedule_rule WHERE schedule_id = ? ORDER BY id'),
      routes: p(`SELECT * FROM outbound_route WHERE account_id = ? AND status = 'active'
                 ORDER BY length(prefix) DESC, priority, id`),
      routeTrunks: p(
        'SELECT trunk_id, transform_json FROM outbound_route_trunk WHERE route_id = ? ORDER BY position',
      ),
      trunk: p('SELECT * FROM sip_trunk WHERE id = ?'),
      call_flow: p('SELECT id, account_id, status, version FROM call_flow WHERE id = ?'),
      queue: p('SELECT id, account_id, status FROM queue WHERE id = ?'),
      voicemail: p('SELECT id, account_id, status FROM voicemail WHERE id = ?'),
      limits: p('SELECT * FROM call_limit WHERE account_id = ? ORDER BY id'),
      wallet: p('SELECT balance_micros, enforce FROM wallet WHERE account_id = ?'),
    };
  }

  /** Forget cached reads (called after every committed write). */
  invalidate(): void {
    this.#routes.clear();
  }

  #get(name: string, ...args: unknown[]): R | undefined {
    return this.#q[name]?.get(...args);
  }

  #all(name: string, ...args: unknown[]): R[] {
    return this.#q[name]?.all(...args) ?? [];
  }

  deviceCredentials(authUsername: string, realm: string): Promise<DeviceCredentials | undefined> {
    const r = this.#get('cred', authUsername, realm);
    if (r === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      deviceId: String(r['device_id']),
      userId: String(r['user_id']),
      accountId: String(r['account_id']),
      authUsername: String(r['auth_username']),
      realm: String(r['realm']),
      ha1: String(r['ha1']),
      ha1b: String(r['ha1b']),
      ha1Sha256: String(r['ha1_sha256']),
      ha1Sha512_256: String(r['ha1_sha512_256']),
      deviceActive: r['device_status'] === 'active',
      userActive: r['user_status'] === 'active',
      domainActive: r['domain_status'] === 'active',
      accountStatus: r['account_status'] as DeviceCredentials['accountStatus'],
    });
  }

  account(id: string): Promise<AccountInfo | undefined> {
    const r = this.#get('account', id);
    if (r === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      id: String(r['id']),
      parentId: s(r['parent_id']),
      status: r['status'] as AccountInfo['status'],
      timezone: String(r['timezone']),
      maxIn: n(r['max_in']),
      maxOut: n(r['max_out']),
      maxDialer: n(r['max_dialer']),
      defaultCallerId: s(r['default_caller_id']),
      defaultDest: destOf(r, 'default_'),
    });
  }

  user(id: string): Promise<UserInfo | undefined> {
    const r = this.#get('user', id);
    return Promise.resolve(r === undefined ? undefined : toUser(r));
  }

  userByUsername(accountId: string, username: string): Promise<UserInfo | undefined> {
    const r = this.#get('userByName', accountId, username);
    return Promise.resolve(r === undefined ? undefined : toUser(r));
  }

  devicesOfUser(userId: string): Promise<DeviceInfo[]> {
    return Promise.resolve(
      this.#all('devices', userId).map((r) => ({
        id: String(r['id']),
        authUsername: String(r['auth_username']),
        realm: String(r['realm']),
        ringOrder: Number(r['ring_order']),
        ringOnFork: r['ring_on_fork'] === 1,
        isWebrtc: r['is_webrtc'] === 1,
        transport: String(r['transport']),
        active: r['status'] === 'active',
      })),
    );
  }

  didByNumber(number: string): Promise<DidInfo | undefined> {
    return Promise.resolve(this.#toDid(this.#get('did', number)));
  }

  didById(id: string): Promise<DidInfo | undefined> {
    return Promise.resolve(this.#toDid(this.#get('didById', id)));
  }

  #toDid(r: R | undefined): DidInfo | undefined {
    if (r === undefined) return undefined;
    return {
      id: String(r['id']),
      accountId: String(r['account_id']),
      number: String(r['number']),
      active: r['status'] === 'active',
      dest: destOf(r, '') ?? { kind: 'hangup', id: null, xform: null },
      maxChannels: n(r['max_channels']),
      allowAnonymous: r['allow_anonymous'] === 1,
      scheduleId: s(r['schedule_id']),
      closedDest: destOf(r, 'closed_'),
      holidayDest: destOf(r, 'holiday_'),
    };
  }

  #toExtension(r: R | undefined): ExtensionInfo | undefined {
    if (r === undefined) return undefined;
    return {
      id: String(r['id']),
      accountId: String(r['account_id']),
      number: String(r['number']),
      dest: destOf(r, '') ?? { kind: 'hangup', id: null, xform: null },
      active: r['status'] === 'active',
    };
  }

  extension(accountId: string, number: string): Promise<ExtensionInfo | undefined> {
    return Promise.resolve(this.#toExtension(this.#get('ext', accountId, number)));
  }

  extensionById(id: string): Promise<ExtensionInfo | undefined> {
    return Promise.resolve(this.#toExtension(this.#get('extById', id)));
  }

  ringGroup(id: string): Promise<RingGroupInfo | undefined> {
    const r = this.#get('rg', id);
    if (r === undefined) return Promise.resolve(undefined);
    const members = this.#all('rgMembers', id).map((m) => ({
      userId: String(m['user_id']),
      delaySec: Number(m['delay_sec']),
      timeoutSec: n(m['timeout_sec']),
    }));
    return Promise.resolve({
      id,
      accountId: String(r['account_id']),
      strategy: r['strategy'] as RingGroupInfo['strategy'],
      ringTimeoutSec: Number(r['ring_timeout_sec']),
      memberTimeoutSec: Number(r['member_timeout_sec']),
      exitDest: destOf(r, 'exit_'),
      members,
    });
  }

  schedule(id: string): Promise<ScheduleInfo | undefined> {
    const r = this.#get('sch', id);
    if (r === undefined) return Promise.resolve(undefined);
    const rules = this.#all('schRules', id).map((x) => ({
      kind: x['kind'] as ScheduleInfo['rules'][number]['kind'],
      weekday: n(x['weekday']),
      startTime: s(x['start_time']),
      endTime: s(x['end_time']),
      startDate: s(x['start_date']),
      endDate: s(x['end_date']),
      isClosed: x['is_closed'] === 1,
    }));
    return Promise.resolve({ id, timezone: String(r['timezone']), rules });
  }

  outboundRoutes(accountId: string): Promise<readonly OutboundRouteInfo[]> {
    let routes = this.#routes.get(accountId);
    if (routes === undefined) {
      routes = this.#all('routes', accountId).map((r) => ({
        id: String(r['id']),
        prefix: String(r['prefix']),
        priority: Number(r['priority']),
        stripDigits: Number(r['strip_digits']),
        prepend: String(r['prepend']),
        trunks: this.#all('routeTrunks', r['id']).map((t) => ({
          trunkId: String(t['trunk_id']),
          transform: parseJson<NumberTransform>(t['transform_json']),
        })),
      }));
      this.#routes.set(accountId, routes);
    }
    return Promise.resolve(routes);
  }

  trunk(id: string): Promise<TrunkInfo | undefined> {
    const r = this.#get('trunk', id);
    if (r === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      id,
      accountId: String(r['account_id']),
      name: String(r['name']),
      proxyHost: String(r['proxy_host']),
      proxyPort: n(r['proxy_port']),
      transport: r['transport'] as TrunkInfo['transport'],
      direction: r['direction'] as TrunkInfo['direction'],
      authUsername: s(r['auth_username']),
      authSecretRef: s(r['auth_secret_ref']),
      callerId: s(r['caller_id']),
      maxChannels: n(r['max_channels']),
      customHeaders: parseJson<Record<string, string>>(r['custom_headers_json']),
      active: r['status'] === 'active',
    });
  }

  target(
    table: 'call_flow' | 'queue' | 'voicemail',
    id: string,
  ): Promise<TargetStatus | undefined> {
    const r = this.#get(table, id);
    if (r === undefined) return Promise.resolve(undefined);
    const out: TargetStatus = {
      id,
      accountId: String(r['account_id']),
      active: r['status'] === 'active' || r['status'] === 'published',
    };
    if (typeof r['version'] === 'number') out.version = r['version'];
    return Promise.resolve(out);
  }

  callLimits(accountId: string): Promise<readonly CallLimitInfo[]> {
    return Promise.resolve(
      this.#all('limits', accountId).map((r) => ({
        id: String(r['id']),
        scope: r['scope'] as CallLimitInfo['scope'],
        scopeId: s(r['scope_id']),
        direction: r['direction'] as CallLimitInfo['direction'],
        windowSec: Number(r['window_sec']),
        maxCalls: Number(r['max_calls']),
      })),
    );
  }

  wallet(accountId: string): Promise<WalletInfo | undefined> {
    const r = this.#get('wallet', accountId);
    if (r === undefined) return Promise.resolve(undefined);
    return Promise.resolve({
      balanceMicros: Number(r['balance_micros']),
      enforce: r['enforce'] === 1,
    });
  }
}
