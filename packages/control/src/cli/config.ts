import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { fail, ok } from '../errors/ctl-errors.js';
import type { Result } from '../errors/ctl-errors.js';
import type { DigestAlgorithm } from '@switchboard/sip-stack';
import type { MediaMode, OutboundMode } from '../edge/edge-options.js';
import { EDGE_SETTINGS } from './edge-settings.js';
import { HOST, integer, portNumber, url } from './setting.js';
import type { Setting } from './setting.js';

export const LOG_LEVELS = Object.freeze([
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
] as const);
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The server configuration, validated once at start. */
export interface SwitchboardConfig {
  dataDir: string;
  http: { host: string; port: number };
  /** Token nodes send to the control-plane API; generated into the data directory when unset. */
  nodeToken: string | undefined;
  logLevel: LogLevel;
  /** A remote control plane (`http://host:port`): this node runs only the edge, asking it. */
  brain: string | undefined;
  /** SIP worker processes (parsed and validated; more than one is not wired yet). */
  workers: number;
  /** How long a graceful stop waits for calls to end before ending them, seconds. */
  drainTimeoutSec: number;
  /** The SIP edge: listen address and ports (null = that transport is off). */
  sip: {
    enabled: boolean;
    host: string;
    udpPort: number | null;
    tcpPort: number | null;
    wsPort: number | null;
    /** TLS and WSS listen only when `tls.cert` and `tls.key` are configured. */
    tlsPort: number | null;
    wssPort: number | null;
    /** PEM files; `ca` makes TLS clients present a certificate it signed (mutual TLS). */
    tls: { cert: string | undefined; key: string | undefined; ca: string | undefined };
    /** Host for Record-Route when `host` is a wildcard address. */
    advertisedHost: string | undefined;
    /** Relay requests for domains that are not ours (default off: refused). */
    relayForeignDomains: boolean;
    /** Digest algorithms offered in challenges, one challenge each, in this order. */
    digestAlgorithms: readonly DigestAlgorithm[];
    /** Lifetime of a digest nonce before a correct answer gets stale=true, seconds. */
    nonceTtlSec: number;
    /** Outbound calls to trunks: through the B2BUA (topology hiding, trunk credentials) or proxied. */
    outbound: OutboundMode;
    /** Honour REFER from trunks on B2BUA calls (default off: a carrier cannot redirect our calls). */
    transfersFromTrunks: boolean;
    /** OPTIONS probes of trunk gateways every this many seconds; 0 = none. */
    trunkProbeIntervalSec: number;
    /** OPTIONS qualify of registered contacts every this many seconds; 0 = none. */
    qualifyIntervalSec: number;
    /** CRLFCRLF pings on registered outbound TCP/TLS flows every this many seconds; 0 = none. */
    keepAliveIntervalSec: number;
  };
  /** Where registrations live: in memory, or in Redis (shared by several nodes). */
  location: { redis: string | undefined };
  /** Media anchoring on the RTP relay. */
  media: {
    mode: MediaMode;
    /** Relay bind address; default the SIP host, or the first external IPv4 when that is a wildcard. */
    address: string | undefined;
    advertised: string | undefined;
    portMin: number;
    portMax: number;
    kernel: boolean;
  };
}

export const DEFAULT_CONFIG: SwitchboardConfig = Object.freeze({
  dataDir: './data',
  http: Object.freeze({ host: '0.0.0.0', port: 8080 }),
  nodeToken: undefined,
  logLevel: 'info',
  brain: undefined,
  workers: 1,
  drainTimeoutSec: 30,
  sip: Object.freeze({
    enabled: true,
    host: '0.0.0.0',
    udpPort: 5060,
    tcpPort: 5060,
    wsPort: 5066,
    tlsPort: 5061,
    wssPort: 7443,
    tls: Object.freeze({ cert: undefined, key: undefined, ca: undefined }),
    advertisedHost: undefined,
    relayForeignDomains: false,
    // MD5 first: many deployed UAs (SIPp, baresip, older phones) answer only the first challenge.
    digestAlgorithms: Object.freeze(['MD5', 'SHA-256'] as const),
    nonceTtlSec: 300,
    outbound: 'b2bua',
    transfersFromTrunks: false,
    trunkProbeIntervalSec: 30,
    qualifyIntervalSec: 0,
    keepAliveIntervalSec: 0,
  }),
  location: Object.freeze({ redis: undefined }),
  media: Object.freeze({
    mode: 'always',
    address: undefined,
    advertised: undefined,
    portMin: 30000,
    portMax: 39999,
    kernel: true,
  }),
});

function port(c: SwitchboardConfig, raw: unknown): string | undefined {
  const n = portNumber(raw);
  if (n === undefined) return 'must be an integer from 0 to 65535';
  c.http.port = n;
  return undefined;
}

const SETTINGS: readonly Setting[] = [
  {
    key: 'data_dir',
    env: 'SWITCHBOARD_DATA_DIR',
    flag: '--data-dir',
    apply: (c, raw) =>
      typeof raw === 'string' && raw.length > 0
        ? ((c.dataDir = raw), undefined)
        : 'must be a directory path',
  },
  {
    key: 'http.host',
    env: 'SWITCHBOARD_HTTP_HOST',
    flag: '--host',
    apply: (c, raw) =>
      typeof raw === 'string' && HOST.test(raw)
        ? ((c.http.host = raw), undefined)
        : 'must be a host name or address',
  },
  { key: 'http.port', env: 'SWITCHBOARD_HTTP_PORT', flag: '--port', apply: port },
  {
    key: 'node_token',
    env: 'SWITCHBOARD_NODE_TOKEN',
    flag: '--node-token',
    apply: (c, raw) =>
      typeof raw === 'string' && raw.length >= 16
        ? ((c.nodeToken = raw), undefined)
        : 'must be a string of at least 16 characters',
  },
  {
    key: 'log_level',
    env: 'SWITCHBOARD_LOG_LEVEL',
    flag: '--log-level',
    apply: (c, raw) =>
      (LOG_LEVELS as readonly unknown[]).includes(raw)
        ? ((c.logLevel = raw as LogLevel), undefined)
        : `must be one of ${LOG_LEVELS.join(', ')}`,
  },
  {
    key: 'brain',
    env: 'SWITCHBOARD_BRAIN',
    flag: '--brain',
    apply: url(['http:'], (c, v) => (c.brain = v)),
  },
  {
    key: 'workers',
    env: 'SWITCHBOARD_WORKERS',
    flag: '--workers',
    apply: integer(1, (c, v) => (c.workers = v)),
  },
  {
    key: 'drain_timeout_sec',
    env: 'SWITCHBOARD_DRAIN_TIMEOUT_SEC',
    flag: '--drain-timeout',
    apply: integer(0, (c, v) => (c.drainTimeoutSec = v)),
  },
  ...EDGE_SETTINGS,
];

/** Flatten `{ http: { port } }` to `http.port`. */
function flatten(obj: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = `${prefix}${k}`;
    if (typeof v === 'object' && v !== null && !Array.isArray(v))
      out.push(...flatten(v as Record<string, unknown>, `${key}.`));
    else out.push([key, v]);
  }
  return out;
}

function readFile(path: string): Result<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return fail(
      'CTL_ERR_CONFIG',
      `${path}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  try {
    const data: unknown = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    if (data === null || data === undefined) return ok({});
    if (typeof data !== 'object' || Array.isArray(data))
      return fail('CTL_ERR_CONFIG', `${path}: the config file must hold a mapping of keys`);
    return ok(data as Record<string, unknown>);
  } catch (err) {
    return fail(
      'CTL_ERR_CONFIG',
      `${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0] ?? ''}`,
    );
  }
}

export interface ConfigSources {
  /** Path of the config file (from --config or SWITCHBOARD_CONFIG), if any. */
  file?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** Flag values by flag name (`--port` → '8081'). */
  flags: Readonly<Record<string, string>>;
}

/**
 * Defaults < config file (YAML or JSON) < environment < flags, validated once. An error names the
 * key and where it came from: `switchboard.yaml: http.port must be an integer from 0 to 65535`.
 */
export function loadConfig(sources: ConfigSources): Result<SwitchboardConfig> {
  const config: SwitchboardConfig = {
    ...DEFAULT_CONFIG,
    http: { ...DEFAULT_CONFIG.http },
    sip: { ...DEFAULT_CONFIG.sip, tls: { ...DEFAULT_CONFIG.sip.tls } },
    location: { ...DEFAULT_CONFIG.location },
    media: { ...DEFAULT_CONFIG.media },
  };
  if (sources.file !== undefined) {
    const data = readFile(sources.file);
    if (!data.ok) return data;
    for (const [key, value] of flatten(data.value)) {
      const setting = SETTINGS.find((s) => s.key === key);
      if (setting === undefined)
        return fail('CTL_ERR_CONFIG', `${sources.file}: unknown key ${key}`, key);
      const problem = setting.apply(config, value);
      if (problem !== undefined)
        return fail('CTL_ERR_CONFIG', `${sources.file}: ${key} ${problem}`, key);
    }
  }
  for (const s of SETTINGS) {
    const value = sources.env[s.env];
    if (value === undefined || value === '') continue;
    const problem = s.apply(config, value);
    if (problem !== undefined)
      return fail('CTL_ERR_CONFIG', `environment ${s.env} (${s.key}) ${problem}`, s.key);
  }
  for (const s of SETTINGS) {
    const value = sources.flags[s.flag];
    if (value === undefined) continue;
    const problem = s.apply(config, value);
    if (problem !== undefined)
      return fail('CTL_ERR_CONFIG', `flag ${s.flag} (${s.key}) ${problem}`, s.key);
  }
  const problem = crossCheck(config);
  return problem === undefined
    ? ok(config)
    : fail('CTL_ERR_CONFIG', `${problem.key} ${problem.message}`, problem.key);
}

/** Rules between keys, checked once every source is applied. */
function crossCheck(c: SwitchboardConfig): { key: string; message: string } | undefined {
  if (c.media.portMin > c.media.portMax)
    return { key: 'media.port_min', message: 'must not be above media.port_max' };
  const { cert, key, ca } = c.sip.tls;
  if (cert !== undefined && key === undefined)
    return { key: 'sip.tls.key', message: 'is required with sip.tls.cert' };
  if (key !== undefined && cert === undefined)
    return { key: 'sip.tls.cert', message: 'is required with sip.tls.key' };
  if (ca !== undefined && cert === undefined)
    return { key: 'sip.tls.cert', message: 'and sip.tls.key are required with sip.tls.ca' };
  if (c.brain !== undefined && c.nodeToken === undefined)
    return { key: 'node_token', message: "is required with brain (the control plane's token)" };
  return undefined;
}

export const CONFIG_FLAGS: readonly string[] = SETTINGS.map((s) => s.flag);
