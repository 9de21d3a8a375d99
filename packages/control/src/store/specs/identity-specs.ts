import type { TableSpec } from '../table-spec.js';
import {
  STAMPS,
  STATUS,
  base,
  bool,
  dest,
  digits,
  int,
  limit,
  oneOf,
  optStr,
  ref,
  str,
} from './column-builders.js';

/** Accounts, SIP identities, media, keys and webhooks. */
export const account: TableSpec = {
  table: 'account',
  prefix: 'acc',
  resource: 'accounts',
  scope: 'admin',
  tenant: false,
  columns: {
    id: str({ readOnly: true }),
    parent_id: ref('account', {
      nullable: true,
      createOnly: true,
      description: 'parent (reseller) account',
    }),
    name: str({ required: true, minLength: 1 }),
    is_reseller: bool(),
    status: oneOf(['active', 'suspended', 'disabled']),
    timezone: str({ maxLength: 64, description: 'IANA time zone' }),
    language: str({ minLength: 2, maxLength: 16 }),
    brand_name: optStr(),
    brand_color: optStr({ pattern: '^#[0-9a-fA-F]{6}$' }),
    brand_logo_media_id: optStr({ maxLength: 40 }),
    max_in: limit('concurrent inbound calls'),
    max_out: limit('concurrent outbound calls'),
    max_dialer: limit('concurrent dialler calls'),
    default_caller_id: optStr({ maxLength: 32 }),
    ...dest('default_', false),
    ...STAMPS,
  },
  dests: ['default_'],
  filters: ['parent_id', 'status'],
};

export const sipDomain: TableSpec = {
  table: 'sip_domain',
  prefix: 'dom',
  resource: 'domains',
  scope: 'users',
  tenant: true,
  columns: {
    ...base(),
    domain: str({
      required: true,
      createOnly: true,
      maxLength: 253,
      pattern: '^[a-z0-9.-]+$',
      description: 'SIP domain and digest realm',
    }),
    status: STATUS,
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'status', 'domain'],
};

export const sipUser: TableSpec = {
  table: 'sip_user',
  prefix: 'us',
  resource: 'users',
  scope: 'users',
  tenant: true,
  columns: {
    ...base(),
    domain_id: ref('sip_domain', { required: true, createOnly: true }),
    username: str({
      required: true,
      createOnly: true,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._+-]+$',
    }),
    display_name: optStr(),
    caller_id_name: optStr({ maxLength: 64 }),
    caller_id_number: optStr({ maxLength: 32 }),
    max_simultaneous: limit('concurrent calls of this user'),
    ring_timeout_sec: int({ minimum: 5, maximum: 600 }),
    ring_strategy: oneOf(['simultaneous', 'sequential', 'specific']),
    ring_device_id: ref('sip_device', {
      nullable: true,
      description: 'device rung by the specific strategy',
    }),
    dnd: bool(),
    ...dest('fwd_always_', false),
    ...dest('fwd_busy_', false),
    ...dest('fwd_noanswer_', false),
    voicemail_id: ref('voicemail', { nullable: true }),
    is_agent: bool(),
    reject_anonymous: bool(),
    status: STATUS,
    ...STAMPS,
  },
  dests: ['fwd_always_', 'fwd_busy_', 'fwd_noanswer_'],
  filters: ['account_id', 'domain_id', 'username', 'status', 'is_agent'],
};

export const sipDevice: TableSpec = {
  table: 'sip_device',
  prefix: 'dev',
  resource: 'devices',
  scope: 'users',
  tenant: true,
  columns: {
    ...base(),
    user_id: ref('sip_user', { required: true, createOnly: true }),
    auth_username: str({
      required: true,
      createOnly: true,
      maxLength: 64,
      pattern: '^[A-Za-z0-9._+-]+$',
    }),
    realm: str({ readOnly: true, description: 'digest realm: the domain of the user' }),
    ha1: str({ hidden: true }),
    ha1b: str({ hidden: true }),
    ha1_sha256: str({ hidden: true }),
    ha1_sha512_256: str({ hidden: true }),
    transport: oneOf(['any', 'udp', 'tcp', 'tls', 'ws', 'wss']),
    is_webrtc: bool(),
    ring_order: int({ minimum: 0, maximum: 1000 }),
    ring_on_fork: bool(),
    status: STATUS,
    ...STAMPS,
  },
  virtual: {
    password: {
      type: 'string',
      minLength: 8,
      maxLength: 128,
      description: 'SIP password; stored only as HA1 digests',
    },
  },
  dests: [],
  filters: ['account_id', 'user_id', 'auth_username', 'status'],
};

export const voicemail: TableSpec = {
  table: 'voicemail',
  prefix: 'vm',
  resource: 'voicemails',
  scope: 'users',
  tenant: true,
  columns: {
    ...base(),
    mailbox: str({ required: true, pattern: digits(1, 16) }),
    pin_secret_ref: str({ nullable: true, readOnly: true }),
    email: optStr({ maxLength: 254, pattern: '^[^@\\s]+@[^@\\s]+$' }),
    greeting_media_id: ref('media_file', { nullable: true }),
    max_messages: int({ minimum: 1, maximum: 10000 }),
    status: STATUS,
    ...STAMPS,
  },
  virtual: {
    pin: {
      type: 'string',
      minLength: 4,
      maxLength: 16,
      description: 'mailbox PIN; stored encrypted',
    },
  },
  dests: [],
  filters: ['account_id', 'mailbox', 'status'],
};

export const mediaFile: TableSpec = {
  table: 'media_file',
  prefix: 'media',
  resource: 'media',
  scope: 'routing',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    kind: oneOf(['prompt', 'moh', 'greeting', 'recording', 'voicemail'], { required: true }),
    path: str({
      required: true,
      maxLength: 1024,
      pattern: '^(?!/)(?!.*\\.\\.)[^\\0]+$',
      description: 'relative to the data directory',
    }),
    content_type: str({ maxLength: 100 }),
    size_bytes: int({ nullable: true, minimum: 0 }),
    duration_ms: int({ nullable: true, minimum: 0 }),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'kind'],
};

export const apiKey: TableSpec = {
  table: 'api_key',
  prefix: 'key',
  resource: 'api_keys',
  scope: 'admin',
  tenant: true,
  columns: {
    ...base(),
    name: str({ required: true, minLength: 1 }),
    key_hash: str({ hidden: true }),
    key_hint: str({
      readOnly: true,
      description: 'first characters of the key, for recognising it',
    }),
    scopes: str({
      required: true,
      maxLength: 100,
      pattern: '^(numbers|users|routing|cdr|admin|\\*)( (numbers|users|routing|cdr|admin|\\*))*$',
      description: 'space-separated scopes',
    }),
    status: STATUS,
    last_used_at: int({ nullable: true, readOnly: true }),
    ...STAMPS,
  },
  dests: [],
  filters: ['account_id', 'status'],
};

export const webhook: TableSpec = {
  table: 'webhook',
  prefix: 'wh',
  resource: 'webhooks',
  scope: 'admin',
  tenant: true,
  columns: {
    ...base(),
    url: str({ required: true, maxLength: 2000, pattern: '^https?://' }),
    events: str({
      maxLength: 200,
      pattern: '^(call\\.started|call\\.ended)( (call\\.started|call\\.ended))*$',
    }),
    secret_ref: str({ nullable: true, readOnly: true }),
    status: STATUS,
    ...STAMPS,
  },
  virtual: {
    secret: {
      type: 'string',
      minLength: 16,
      maxLength: 256,
      description: 'HMAC-SHA256 signing secret; stored encrypted',
    },
  },
  dests: [],
  filters: ['account_id', 'status'],
};

/** Every operator-edited table, in dependency order (parents before children). */
