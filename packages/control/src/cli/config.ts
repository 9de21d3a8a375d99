import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { fail, ok } from '../errors/ctl-errors.js';
import type { Result } from '../errors/ctl-errors.js';
import { MEDIA_MODES } from '../edge/edge-options.js';
import type { MediaMode } from '../edge/edge-options.js';

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
  /** The SIP edge: listen address and ports (null = that transport is off). */
  sip: {
    enabled: boolean;
    host: string;
    udpPort: number | null;
    tcpPort: number | null;
    wsPort: number | null;
    /** Host for Record-Route when `host` is a wildcard address. */
    advertisedHost: string | undefined;
  };
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
  sip: Object.freeze({
    enabled: true,
    host: '0.0.0.0',
    udpPort: 5060,
    tcpPort: 5060,
    wsPort: 5066,
    advertisedHost: undefined,
  }),
  media: Object.freeze({
    mode: 'always',
    address: undefined,
    advertised: undefined,
    portMin: 30000,
    portMax: 39999,
    kernel: true,
  }),
});

/** One setting: its file key, environment variable and flag, and how to check it. */
interface Setting {
  key: string;
  env: string;
  flag: string;
  apply(c: SwitchboardConfig, raw: unknown): string | undefined;
}

function port(c: SwitchboardConfig, raw: unknown): string | undefined {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535)
    return 'must be an integer from 0 to 65535';
  c.http.port = n;
  return undefined;
}

const HOST = /^[A-Za-z0-9.:_-]+$/;

function portNumber(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

function onOff(raw: unknown): boolean | undefined {
  if (raw === true || raw === 'on' || raw === 'true' || raw === 'yes') return true;
  if (raw === false || raw === 'off' || raw === 'false' || raw === 'no') return false;
  return undefined;
}

/** A SIP port setting: 0–65535 (0 = ephemeral) or off. */
function sipPort(set: (c: SwitchboardConfig, v: number | null) => void): Setting['apply'] {
  return (c, raw) => {
    if (onOff(raw) === false) return (set(c, null), undefined);
    const n = portNumber(raw);
    return n === undefined ? 'must be an integer from 0 to 65535, or off' : (set(c, n), undefined);
  };
}

function host(set: (c: SwitchboardConfig, v: string) => void): Setting['apply'] {
  return (c, raw) =>
    typeof raw === 'string' && HOST.test(raw)
      ? (set(c, raw), undefined)
      : 'must be a host name or address';
}

function rtpPort(set: (c: SwitchboardConfig, v: number) => void): Setting['apply'] {
  return (c, raw) => {
    const n = portNumber(raw);
    return n === undefined || n < 1024
      ? 'must be an integer from 1024 to 65535'
      : (set(c, n), undefined);
  };
}

function flag(set: (c: SwitchboardConfig, v: boolean) => void): Setting['apply'] {
  return (c, raw) => {
    const v = onOff(raw);
    return v === undefined ? 'must be on or off' : (set(c, v), undefined);
  };
}

const EDGE_SETTINGS: readonly Setting[] = [
  {
    key: 'sip.enabled',
    env: 'SWITCHBOARD_SIP',
    flag: '--sip',
    apply: flag((c, v) => (c.sip.enabled = v)),
  },
  {
    key: 'sip.host',
    env: 'SWITCHBOARD_SIP_HOST',
    flag: '--sip-host',
    apply: host((c, v) => (c.sip.host = v)),
  },
  {
    key: 'sip.udp_port',
    env: 'SWITCHBOARD_SIP_UDP_PORT',
    flag: '--sip-udp-port',
    apply: sipPort((c, v) => (c.sip.udpPort = v)),
  },
  {
    key: 'sip.tcp_port',
    env: 'SWITCHBOARD_SIP_TCP_PORT',
    flag: '--sip-tcp-port',
    apply: sipPort((c, v) => (c.sip.tcpPort = v)),
  },
  {
    key: 'sip.ws_port',
    env: 'SWITCHBOARD_SIP_WS_PORT',
    flag: '--sip-ws-port',
    apply: sipPort((c, v) => (c.sip.wsPort = v)),
  },
  {
    key: 'sip.advertised_host',
    env: 'SWITCHBOARD_SIP_ADVERTISED_HOST',
    flag: '--sip-advertised-host',
    apply: host((c, v) => (c.sip.advertisedHost = v)),
  },
  {
    key: 'media.mode',
    env: 'SWITCHBOARD_MEDIA_MODE',
    flag: '--media-mode',
    apply: (c, raw) =>
      (MEDIA_MODES as readonly unknown[]).includes(raw)
        ? ((c.media.mode = raw as MediaMode), undefined)
        : `must be one of ${MEDIA_MODES.join(', ')}`,
  },
  {
    key: 'media.address',
    env: 'SWITCHBOARD_MEDIA_ADDRESS',
    flag: '--media-address',
    apply: host((c, v) => (c.media.address = v)),
  },
  {
    key: 'media.advertised_address',
    env: 'SWITCHBOARD_MEDIA_ADVERTISED',
    flag: '--media-advertised',
    apply: host((c, v) => (c.media.advertised = v)),
  },
  {
    key: 'media.port_min',
    env: 'SWITCHBOARD_RTP_MIN',
    flag: '--rtp-min',
    apply: rtpPort((c, v) => (c.media.portMin = v)),
  },
  {
    key: 'media.port_max',
    env: 'SWITCHBOARD_RTP_MAX',
    flag: '--rtp-max',
    apply: rtpPort((c, v) => (c.media.portMax = v)),
  },
  {
    key: 'media.kernel',
    env: 'SWITCHBOARD_MEDIA_KERNEL',
    flag: '--media-kernel',
    apply: flag((c, v) => (c.media.kernel = v)),
  },
];

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
      typeof raw === 'string' && /^[A-Za-z0-9.:_-]+$/.test(raw)
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
    sip: { ...DEFAULT_CONFIG.sip },
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
  if (config.media.portMin > config.media.portMax)
    return fail(
      'CTL_ERR_CONFIG',
      'media.port_min must not be above media.port_max',
      'media.port_min',
    );
  return ok(config);
}

export const CONFIG_FLAGS: readonly string[] = SETTINGS.map((s) => s.flag);
