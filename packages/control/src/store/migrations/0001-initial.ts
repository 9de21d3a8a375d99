/**
 * Migration 1: the whole configuration schema, records and secrets. Frozen once released: later
 * changes are new numbered migrations. Conventions: prefixed ULID ids (checked), indexed
 * account_id on every tenant row, named CHECK constraints `ck_<table>_<column>` for enums and
 * booleans, JSON only for flow graphs, per-hop transforms and custom headers, epoch seconds,
 * money in integer micro-units, secrets only as `*_secret_ref`.
 */

import {
  id,
  bool,
  oneOf,
  dest,
  limit,
  STAMPS,
  TENANT,
  STATUS,
  DIGITS,
  HHMM,
  YMD,
} from './schema-columns.js';

export const MIGRATION_0001 = `
CREATE TABLE account (
  ${id('account', 'acc')},
  parent_id TEXT REFERENCES account(id) ON DELETE RESTRICT,
  name TEXT NOT NULL CONSTRAINT ck_account_name CHECK (length(name) BETWEEN 1 AND 200),
  ${bool('account', 'is_reseller', 0)},
  ${oneOf('account', 'status', ['active', 'suspended', 'disabled'], 'active')},
  timezone TEXT NOT NULL DEFAULT 'UTC',
  language TEXT NOT NULL DEFAULT 'en' CONSTRAINT ck_account_language CHECK (length(language) BETWEEN 2 AND 16),
  brand_name TEXT,
  brand_color TEXT CONSTRAINT ck_account_brand_color CHECK (brand_color IS NULL OR brand_color GLOB '#[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]'),
  brand_logo_media_id TEXT,
  ${limit('account', 'max_in')},
  ${limit('account', 'max_out')},
  ${limit('account', 'max_dialer')},
  default_caller_id TEXT,
  ${dest('account', 'default_', false)},
  ${STAMPS}
);
CREATE INDEX ix_account_parent ON account(parent_id);

CREATE TABLE secret (
  ${id('secret', 'sec')},
  account_id TEXT REFERENCES account(id) ON DELETE CASCADE,
  key_id TEXT NOT NULL,
  iv BLOB NOT NULL CONSTRAINT ck_secret_iv CHECK (length(iv) = 12),
  tag BLOB NOT NULL CONSTRAINT ck_secret_tag CHECK (length(tag) = 16),
  ciphertext BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX ix_secret_account ON secret(account_id);

CREATE TABLE wallet (
  account_id TEXT PRIMARY KEY REFERENCES account(id) ON DELETE CASCADE,
  balance_micros INTEGER NOT NULL DEFAULT 0,
  currency TEXT NOT NULL DEFAULT 'USD' CONSTRAINT ck_wallet_currency CHECK (length(currency) = 3),
  ${bool('wallet', 'enforce', 0)},
  updated_at INTEGER NOT NULL
);

CREATE TABLE wallet_txn (
  ${id('wallet_txn', 'wtx')},
  ${TENANT},
  amount_micros INTEGER NOT NULL,
  reason TEXT NOT NULL,
  call_id TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX ix_wallet_txn_account ON wallet_txn(account_id, created_at);

CREATE TABLE sip_domain (
  ${id('sip_domain', 'dom')},
  ${TENANT},
  domain TEXT NOT NULL UNIQUE CONSTRAINT ck_sip_domain_domain CHECK (length(domain) BETWEEN 1 AND 253 AND domain = lower(domain) AND domain NOT GLOB '*[^a-z0-9.-]*'),
  ${STATUS('sip_domain')},
  ${STAMPS}
);
CREATE INDEX ix_sip_domain_account ON sip_domain(account_id);

CREATE TABLE voicemail (
  ${id('voicemail', 'vm')},
  ${TENANT},
  mailbox TEXT NOT NULL ${DIGITS('voicemail', 'mailbox', 1, 16)},
  pin_secret_ref TEXT REFERENCES secret(id) ON DELETE SET NULL,
  email TEXT,
  greeting_media_id TEXT,
  max_messages INTEGER NOT NULL DEFAULT 100 CONSTRAINT ck_voicemail_max_messages CHECK (max_messages BETWEEN 1 AND 10000),
  ${STATUS('voicemail')},
  ${STAMPS},
  UNIQUE (account_id, mailbox)
);
CREATE INDEX ix_voicemail_account ON voicemail(account_id);

CREATE TABLE sip_user (
  ${id('sip_user', 'us')},
  ${TENANT},
  domain_id TEXT NOT NULL REFERENCES sip_domain(id) ON DELETE RESTRICT,
  username TEXT NOT NULL CONSTRAINT ck_sip_user_username CHECK (length(username) BETWEEN 1 AND 64 AND username NOT GLOB '*[^A-Za-z0-9._+-]*'),
  display_name TEXT,
  caller_id_name TEXT,
  caller_id_number TEXT,
  ${limit('sip_user', 'max_simultaneous')},
  ring_timeout_sec INTEGER NOT NULL DEFAULT 30 CONSTRAINT ck_sip_user_ring_timeout_sec CHECK (ring_timeout_sec BETWEEN 5 AND 600),
  ${oneOf('sip_user', 'ring_strategy', ['simultaneous', 'sequential', 'specific'], 'simultaneous')},
  ring_device_id TEXT,
  ${bool('sip_user', 'dnd', 0)},
  ${dest('sip_user', 'fwd_always_', false)},
  ${dest('sip_user', 'fwd_busy_', false)},
  ${dest('sip_user', 'fwd_noanswer_', false)},
  voicemail_id TEXT REFERENCES voicemail(id) ON DELETE SET NULL,
  ${bool('sip_user', 'is_agent', 0)},
  ${bool('sip_user', 'reject_anonymous', 0)},
  ${STATUS('sip_user')},
  ${STAMPS},
  UNIQUE (domain_id, username)
);
CREATE INDEX ix_sip_user_account ON sip_user(account_id);
CREATE INDEX ix_sip_user_username ON sip_user(account_id, username);

CREATE TABLE sip_device (
  ${id('sip_device', 'dev')},
  ${TENANT},
  user_id TEXT NOT NULL REFERENCES sip_user(id) ON DELETE CASCADE,
  auth_username TEXT NOT NULL CONSTRAINT ck_sip_device_auth_username CHECK (length(auth_username) BETWEEN 1 AND 64 AND auth_username NOT GLOB '*[^A-Za-z0-9._+-]*'),
  realm TEXT NOT NULL,
  ha1 TEXT NOT NULL CONSTRAINT ck_sip_device_ha1 CHECK (length(ha1) = 32),
  ha1b TEXT NOT NULL CONSTRAINT ck_sip_device_ha1b CHECK (length(ha1b) = 32),
  ha1_sha256 TEXT NOT NULL CONSTRAINT ck_sip_device_ha1_sha256 CHECK (length(ha1_sha256) = 64),
  ha1_sha512_256 TEXT NOT NULL CONSTRAINT ck_sip_device_ha1_sha512_256 CHECK (length(ha1_sha512_256) = 64),
  ${oneOf('sip_device', 'transport', ['any', 'udp', 'tcp', 'tls', 'ws', 'wss'], 'any')},
  ${bool('sip_device', 'is_webrtc', 0)},
  ring_order INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_sip_device_ring_order CHECK (ring_order BETWEEN 0 AND 1000),
  ${bool('sip_device', 'ring_on_fork', 1)},
  ${STATUS('sip_device')},
  ${STAMPS},
  UNIQUE (auth_username, realm)
);
CREATE INDEX ix_sip_device_account ON sip_device(account_id);
CREATE INDEX ix_sip_device_user ON sip_device(user_id, ring_order);

CREATE TABLE time_schedule (
  ${id('time_schedule', 'sch')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_time_schedule_name CHECK (length(name) BETWEEN 1 AND 200),
  timezone TEXT NOT NULL DEFAULT 'UTC',
  ${STAMPS}
);
CREATE INDEX ix_time_schedule_account ON time_schedule(account_id);

CREATE TABLE time_schedule_rule (
  ${id('time_schedule_rule', 'schr')},
  ${TENANT},
  schedule_id TEXT NOT NULL REFERENCES time_schedule(id) ON DELETE CASCADE,
  ${oneOf('time_schedule_rule', 'kind', ['weekly', 'date', 'date_range'])},
  weekday INTEGER CONSTRAINT ck_time_schedule_rule_weekday CHECK (weekday IS NULL OR weekday BETWEEN 1 AND 7),
  ${HHMM('time_schedule_rule', 'start_time')},
  ${HHMM('time_schedule_rule', 'end_time')},
  ${YMD('time_schedule_rule', 'start_date')},
  ${YMD('time_schedule_rule', 'end_date')},
  ${bool('time_schedule_rule', 'is_closed', 0)},
  ${STAMPS},
  CONSTRAINT ck_time_schedule_rule_shape CHECK (
    (kind = 'weekly' AND weekday IS NOT NULL AND start_time IS NOT NULL AND end_time IS NOT NULL)
    OR (kind = 'date' AND start_date IS NOT NULL)
    OR (kind = 'date_range' AND start_date IS NOT NULL AND end_date IS NOT NULL AND end_date >= start_date)),
  CONSTRAINT ck_time_schedule_rule_times CHECK ((start_time IS NULL) = (end_time IS NULL))
);
CREATE INDEX ix_time_schedule_rule_account ON time_schedule_rule(account_id);
CREATE INDEX ix_time_schedule_rule_schedule ON time_schedule_rule(schedule_id);

CREATE TABLE call_flow (
  ${id('call_flow', 'flow')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_call_flow_name CHECK (length(name) BETWEEN 1 AND 200),
  version INTEGER NOT NULL DEFAULT 1 CONSTRAINT ck_call_flow_version CHECK (version >= 1),
  graph_json TEXT NOT NULL CONSTRAINT ck_call_flow_graph_json CHECK (json_valid(graph_json) AND json_type(graph_json) = 'object'),
  ${oneOf('call_flow', 'status', ['draft', 'published', 'disabled'], 'published')},
  ${STAMPS}
);
CREATE INDEX ix_call_flow_account ON call_flow(account_id);

CREATE TABLE call_flow_version (
  flow_id TEXT NOT NULL REFERENCES call_flow(id) ON DELETE CASCADE,
  ${TENANT},
  version INTEGER NOT NULL,
  graph_json TEXT NOT NULL CONSTRAINT ck_call_flow_version_graph_json CHECK (json_valid(graph_json)),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (flow_id, version)
);
CREATE INDEX ix_call_flow_version_account ON call_flow_version(account_id);

CREATE TABLE sip_trunk (
  ${id('sip_trunk', 'tr')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_sip_trunk_name CHECK (length(name) BETWEEN 1 AND 200),
  ${oneOf('sip_trunk', 'kind', ['carrier', 'pbx'], 'carrier')},
  ${oneOf('sip_trunk', 'direction', ['inbound', 'outbound', 'both'], 'both')},
  proxy_host TEXT NOT NULL CONSTRAINT ck_sip_trunk_proxy_host CHECK (length(proxy_host) BETWEEN 1 AND 253),
  proxy_port INTEGER CONSTRAINT ck_sip_trunk_proxy_port CHECK (proxy_port IS NULL OR proxy_port BETWEEN 1 AND 65535),
  ${oneOf('sip_trunk', 'transport', ['udp', 'tcp', 'tls'], 'udp')},
  ${bool('sip_trunk', 'register', 0)},
  auth_username TEXT,
  auth_secret_ref TEXT REFERENCES secret(id) ON DELETE SET NULL,
  caller_id TEXT,
  ${limit('sip_trunk', 'max_channels')},
  ${oneOf('sip_trunk', 'inbound_auth', ['ip', 'digest', 'none'], 'ip')},
  inbound_ips TEXT,
  custom_headers_json TEXT CONSTRAINT ck_sip_trunk_custom_headers_json CHECK (custom_headers_json IS NULL OR (json_valid(custom_headers_json) AND json_type(custom_headers_json) = 'object')),
  ${STATUS('sip_trunk')},
  ${STAMPS}
);
CREATE INDEX ix_sip_trunk_account ON sip_trunk(account_id);

CREATE TABLE queue (
  ${id('queue', 'q')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_queue_name CHECK (length(name) BETWEEN 1 AND 200),
  ${oneOf('queue', 'strategy', ['longest_idle', 'round_robin', 'ring_all', 'fewest_calls', 'random'], 'longest_idle')},
  max_wait_sec INTEGER NOT NULL DEFAULT 300 CONSTRAINT ck_queue_max_wait_sec CHECK (max_wait_sec BETWEEN 1 AND 86400),
  ${limit('queue', 'max_callers')},
  moh_media_id TEXT,
  ${dest('queue', 'exit_', false)},
  ${STATUS('queue')},
  ${STAMPS}
);
CREATE INDEX ix_queue_account ON queue(account_id);

CREATE TABLE agent_queue_assignment (
  ${id('agent_queue_assignment', 'aqa')},
  ${TENANT},
  queue_id TEXT NOT NULL REFERENCES queue(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES sip_user(id) ON DELETE CASCADE,
  tier INTEGER NOT NULL DEFAULT 1 CONSTRAINT ck_agent_queue_assignment_tier CHECK (tier BETWEEN 1 AND 100),
  ${STAMPS},
  UNIQUE (queue_id, user_id)
);
CREATE INDEX ix_agent_queue_assignment_account ON agent_queue_assignment(account_id);

CREATE TABLE ring_group (
  ${id('ring_group', 'rg')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_ring_group_name CHECK (length(name) BETWEEN 1 AND 200),
  ${oneOf('ring_group', 'strategy', ['ring_all', 'sequential', 'round_robin'], 'ring_all')},
  ring_timeout_sec INTEGER NOT NULL DEFAULT 30 CONSTRAINT ck_ring_group_ring_timeout_sec CHECK (ring_timeout_sec BETWEEN 5 AND 3600),
  member_timeout_sec INTEGER NOT NULL DEFAULT 15 CONSTRAINT ck_ring_group_member_timeout_sec CHECK (member_timeout_sec BETWEEN 2 AND 600),
  ${dest('ring_group', 'exit_', false)},
  ${STAMPS}
);
CREATE INDEX ix_ring_group_account ON ring_group(account_id);

CREATE TABLE ring_group_member (
  ${id('ring_group_member', 'rgm')},
  ${TENANT},
  ring_group_id TEXT NOT NULL REFERENCES ring_group(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES sip_user(id) ON DELETE CASCADE,
  position INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_ring_group_member_position CHECK (position >= 0),
  delay_sec INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_ring_group_member_delay_sec CHECK (delay_sec BETWEEN 0 AND 600),
  timeout_sec INTEGER CONSTRAINT ck_ring_group_member_timeout_sec CHECK (timeout_sec IS NULL OR timeout_sec BETWEEN 2 AND 600),
  ${STAMPS},
  UNIQUE (ring_group_id, user_id)
);
CREATE INDEX ix_ring_group_member_account ON ring_group_member(account_id);
CREATE INDEX ix_ring_group_member_group ON ring_group_member(ring_group_id, position);

CREATE TABLE extension (
  ${id('extension', 'ext')},
  ${TENANT},
  number TEXT NOT NULL CONSTRAINT ck_extension_number CHECK (length(number) BETWEEN 1 AND 16 AND number NOT GLOB '*[^0-9*#]*'),
  ${dest('extension', '', true)},
  ${STATUS('extension')},
  ${STAMPS},
  UNIQUE (account_id, number)
);
CREATE INDEX ix_extension_account ON extension(account_id);

CREATE TABLE did (
  ${id('did', 'did')},
  ${TENANT},
  number TEXT NOT NULL UNIQUE ${DIGITS('did', 'number', 6, 15)},
  ${STATUS('did')},
  ${dest('did', '', true)},
  ${limit('did', 'max_channels')},
  ${bool('did', 'allow_anonymous', 1)},
  schedule_id TEXT REFERENCES time_schedule(id) ON DELETE SET NULL,
  ${dest('did', 'closed_', false)},
  ${dest('did', 'holiday_', false)},
  ${STAMPS},
  CONSTRAINT ck_did_number_e164 CHECK (number NOT GLOB '0*')
);
CREATE INDEX ix_did_account ON did(account_id);

CREATE TABLE outbound_route (
  ${id('outbound_route', 'route')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_outbound_route_name CHECK (length(name) BETWEEN 1 AND 200),
  prefix TEXT NOT NULL DEFAULT '' CONSTRAINT ck_outbound_route_prefix CHECK (length(prefix) <= 15 AND prefix NOT GLOB '*[^0-9]*'),
  priority INTEGER NOT NULL DEFAULT 100 CONSTRAINT ck_outbound_route_priority CHECK (priority BETWEEN 0 AND 10000),
  strip_digits INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_outbound_route_strip_digits CHECK (strip_digits BETWEEN 0 AND 15),
  prepend TEXT NOT NULL DEFAULT '' CONSTRAINT ck_outbound_route_prepend CHECK (length(prepend) <= 16 AND prepend NOT GLOB '*[^0-9+]*'),
  ${STATUS('outbound_route')},
  ${STAMPS}
);
CREATE INDEX ix_outbound_route_account ON outbound_route(account_id, prefix);

CREATE TABLE outbound_route_trunk (
  route_id TEXT NOT NULL REFERENCES outbound_route(id) ON DELETE CASCADE,
  ${TENANT},
  position INTEGER NOT NULL CONSTRAINT ck_outbound_route_trunk_position CHECK (position >= 0),
  trunk_id TEXT NOT NULL REFERENCES sip_trunk(id) ON DELETE CASCADE,
  transform_json TEXT CONSTRAINT ck_outbound_route_trunk_transform_json CHECK (transform_json IS NULL OR (json_valid(transform_json) AND json_type(transform_json) = 'object')),
  PRIMARY KEY (route_id, position)
);
CREATE INDEX ix_outbound_route_trunk_account ON outbound_route_trunk(account_id);
CREATE INDEX ix_outbound_route_trunk_trunk ON outbound_route_trunk(trunk_id);

CREATE TABLE rate (
  ${id('rate', 'rate')},
  ${TENANT},
  prefix TEXT NOT NULL CONSTRAINT ck_rate_prefix CHECK (length(prefix) <= 15 AND prefix NOT GLOB '*[^0-9]*'),
  description TEXT,
  price_per_min_micros INTEGER NOT NULL CONSTRAINT ck_rate_price_per_min_micros CHECK (price_per_min_micros >= 0),
  connect_fee_micros INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_rate_connect_fee_micros CHECK (connect_fee_micros >= 0),
  initial_increment_sec INTEGER NOT NULL DEFAULT 60 CONSTRAINT ck_rate_initial_increment_sec CHECK (initial_increment_sec BETWEEN 1 AND 3600),
  increment_sec INTEGER NOT NULL DEFAULT 60 CONSTRAINT ck_rate_increment_sec CHECK (increment_sec BETWEEN 1 AND 3600),
  ${STAMPS},
  UNIQUE (account_id, prefix)
);
CREATE INDEX ix_rate_account ON rate(account_id);

CREATE TABLE call_limit (
  ${id('call_limit', 'lim')},
  ${TENANT},
  ${oneOf('call_limit', 'scope', ['account', 'user', 'did', 'trunk'])},
  scope_id TEXT,
  ${oneOf('call_limit', 'direction', ['any', 'inbound', 'outbound', 'internal', 'dialer'], 'any')},
  window_sec INTEGER NOT NULL CONSTRAINT ck_call_limit_window_sec CHECK (window_sec BETWEEN 1 AND 86400),
  max_calls INTEGER NOT NULL CONSTRAINT ck_call_limit_max_calls CHECK (max_calls >= 0),
  ${STAMPS},
  CONSTRAINT ck_call_limit_scope_id CHECK ((scope = 'account') = (scope_id IS NULL))
);
CREATE INDEX ix_call_limit_account ON call_limit(account_id);

CREATE TABLE media_file (
  ${id('media_file', 'media')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_media_file_name CHECK (length(name) BETWEEN 1 AND 200),
  ${oneOf('media_file', 'kind', ['prompt', 'moh', 'greeting', 'recording', 'voicemail'])},
  path TEXT NOT NULL CONSTRAINT ck_media_file_path CHECK (length(path) BETWEEN 1 AND 1024 AND path NOT GLOB '*..*' AND path NOT GLOB '/*'),
  content_type TEXT NOT NULL DEFAULT 'audio/wav',
  size_bytes INTEGER CONSTRAINT ck_media_file_size_bytes CHECK (size_bytes IS NULL OR size_bytes >= 0),
  duration_ms INTEGER CONSTRAINT ck_media_file_duration_ms CHECK (duration_ms IS NULL OR duration_ms >= 0),
  ${STAMPS}
);
CREATE INDEX ix_media_file_account ON media_file(account_id);

CREATE TABLE call_cdr (
  ${id('call_cdr', 'call')},
  ${TENANT},
  call_id TEXT NOT NULL,
  ${oneOf('call_cdr', 'direction', ['inbound', 'outbound', 'internal'])},
  from_number TEXT NOT NULL,
  to_number TEXT NOT NULL,
  user_id TEXT,
  did_id TEXT,
  trunk_id TEXT,
  started_at INTEGER NOT NULL,
  answered_at INTEGER,
  ended_at INTEGER,
  billsec INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_call_cdr_billsec CHECK (billsec >= 0),
  ${oneOf('call_cdr', 'disposition', ['in_progress', 'answered', 'no_answer', 'busy', 'failed', 'rejected'], 'in_progress')},
  hangup_cause TEXT,
  cost_micros INTEGER NOT NULL DEFAULT 0 CONSTRAINT ck_call_cdr_cost_micros CHECK (cost_micros >= 0),
  rate_id TEXT
);
CREATE INDEX ix_call_cdr_account ON call_cdr(account_id, started_at, id);
CREATE INDEX ix_call_cdr_call_id ON call_cdr(call_id);

CREATE TABLE call_event (
  ${id('call_event', 'cev')},
  ${TENANT},
  call_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL CONSTRAINT ck_call_event_kind CHECK (length(kind) BETWEEN 1 AND 64),
  detail TEXT
);
CREATE INDEX ix_call_event_account ON call_event(account_id);
CREATE INDEX ix_call_event_call ON call_event(call_id, at);

CREATE TABLE api_key (
  ${id('api_key', 'key')},
  ${TENANT},
  name TEXT NOT NULL CONSTRAINT ck_api_key_name CHECK (length(name) BETWEEN 1 AND 200),
  key_hash TEXT NOT NULL UNIQUE CONSTRAINT ck_api_key_key_hash CHECK (length(key_hash) = 64),
  key_hint TEXT NOT NULL,
  scopes TEXT NOT NULL CONSTRAINT ck_api_key_scopes CHECK (length(scopes) > 0 AND scopes NOT GLOB '*[^a-z* ]*'),
  ${STATUS('api_key')},
  last_used_at INTEGER,
  ${STAMPS}
);
CREATE INDEX ix_api_key_account ON api_key(account_id);

CREATE TABLE webhook (
  ${id('webhook', 'wh')},
  ${TENANT},
  url TEXT NOT NULL CONSTRAINT ck_webhook_url CHECK (url GLOB 'http://*' OR url GLOB 'https://*'),
  events TEXT NOT NULL DEFAULT 'call.started call.ended' CONSTRAINT ck_webhook_events CHECK (length(events) > 0 AND events NOT GLOB '*[^a-z. ]*'),
  secret_ref TEXT REFERENCES secret(id) ON DELETE SET NULL,
  ${STATUS('webhook')},
  ${STAMPS}
);
CREATE INDEX ix_webhook_account ON webhook(account_id);

CREATE TABLE webhook_delivery (
  ${id('webhook_delivery', 'whd')},
  ${TENANT},
  webhook_id TEXT NOT NULL REFERENCES webhook(id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  payload TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  ${oneOf('webhook_delivery', 'status', ['pending', 'delivered', 'failed'], 'pending')},
  last_error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX ix_webhook_delivery_account ON webhook_delivery(account_id);
CREATE INDEX ix_webhook_delivery_due ON webhook_delivery(status, next_attempt_at);
`;
