/** Settings of the SIP edge, the relay and the location service (the rows of the config table). */
import { parseDigestAlgorithm, type DigestAlgorithm } from '@switchboard/sip-stack';
import { MEDIA_MODES, OUTBOUND_MODES } from '../edge/edge-options.js';
import type { MediaMode, OutboundMode } from '../edge/edge-options.js';
import { flag, host, integer, pemFile, rtpPort, sipPort, url } from './setting.js';
import type { Apply } from './setting.js';
import type { Setting } from './setting.js';

/** Digest algorithms: a YAML list, or comma-separated from env and flags; order is preference. */
const applyAlgorithms: Apply = (c, raw) => {
  const items: unknown = typeof raw === 'string' ? raw.split(',') : raw;
  if (!Array.isArray(items) || items.length === 0) return 'must be a list of digest algorithms';
  const out: DigestAlgorithm[] = [];
  for (const item of items as unknown[]) {
    const a = typeof item === 'string' ? parseDigestAlgorithm(item.trim()) : undefined;
    if (a === undefined) return `has an unknown digest algorithm ${String(item)}`;
    if (!out.includes(a)) out.push(a);
  }
  c.sip.digestAlgorithms = out;
  return undefined;
};

const SIP_SETTINGS: readonly Setting[] = [
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
    key: 'sip.tls_port',
    env: 'SWITCHBOARD_SIP_TLS_PORT',
    flag: '--sip-tls-port',
    apply: sipPort((c, v) => (c.sip.tlsPort = v)),
  },
  {
    key: 'sip.wss_port',
    env: 'SWITCHBOARD_SIP_WSS_PORT',
    flag: '--sip-wss-port',
    apply: sipPort((c, v) => (c.sip.wssPort = v)),
  },
  {
    key: 'sip.tls.cert',
    env: 'SWITCHBOARD_SIP_TLS_CERT',
    flag: '--sip-tls-cert',
    apply: pemFile((c, v) => (c.sip.tls.cert = v)),
  },
  {
    key: 'sip.tls.key',
    env: 'SWITCHBOARD_SIP_TLS_KEY',
    flag: '--sip-tls-key',
    apply: pemFile((c, v) => (c.sip.tls.key = v)),
  },
  {
    key: 'sip.tls.ca',
    env: 'SWITCHBOARD_SIP_TLS_CA',
    flag: '--sip-tls-ca',
    apply: pemFile((c, v) => (c.sip.tls.ca = v)),
  },
  {
    key: 'sip.advertised_host',
    env: 'SWITCHBOARD_SIP_ADVERTISED_HOST',
    flag: '--sip-advertised-host',
    apply: host((c, v) => (c.sip.advertisedHost = v)),
  },
  {
    key: 'sip.relay_foreign_domains',
    env: 'SWITCHBOARD_SIP_RELAY_FOREIGN_DOMAINS',
    flag: '--sip-relay-foreign-domains',
    apply: flag((c, v) => (c.sip.relayForeignDomains = v)),
  },
  {
    key: 'sip.digest_algorithms',
    env: 'SWITCHBOARD_SIP_DIGEST_ALGORITHMS',
    flag: '--sip-digest-algorithms',
    apply: applyAlgorithms,
  },
  {
    key: 'sip.nonce_ttl_sec',
    env: 'SWITCHBOARD_SIP_NONCE_TTL_SEC',
    flag: '--sip-nonce-ttl-sec',
    apply: integer(1, (c, v) => (c.sip.nonceTtlSec = v)),
  },
  {
    key: 'sip.outbound',
    env: 'SWITCHBOARD_SIP_OUTBOUND',
    flag: '--sip-outbound',
    apply: (c, raw) =>
      (OUTBOUND_MODES as readonly unknown[]).includes(raw)
        ? ((c.sip.outbound = raw as OutboundMode), undefined)
        : `must be one of ${OUTBOUND_MODES.join(', ')}`,
  },
  {
    key: 'sip.transfers_from_trunks',
    env: 'SWITCHBOARD_SIP_TRANSFERS_FROM_TRUNKS',
    flag: '--sip-transfers-from-trunks',
    apply: flag((c, v) => (c.sip.transfersFromTrunks = v)),
  },
  {
    key: 'sip.trunk_probe_interval_sec',
    env: 'SWITCHBOARD_SIP_TRUNK_PROBE_INTERVAL_SEC',
    flag: '--sip-trunk-probe-interval-sec',
    apply: integer(0, (c, v) => (c.sip.trunkProbeIntervalSec = v)),
  },
  {
    key: 'sip.qualify_interval_sec',
    env: 'SWITCHBOARD_SIP_QUALIFY_INTERVAL_SEC',
    flag: '--sip-qualify-interval-sec',
    apply: integer(0, (c, v) => (c.sip.qualifyIntervalSec = v)),
  },
  {
    key: 'sip.keepalive_interval_sec',
    env: 'SWITCHBOARD_SIP_KEEPALIVE_INTERVAL_SEC',
    flag: '--sip-keepalive-interval-sec',
    apply: integer(0, (c, v) => (c.sip.keepAliveIntervalSec = v)),
  },
  {
    key: 'location.redis',
    env: 'SWITCHBOARD_LOCATION_REDIS',
    flag: '--location-redis',
    apply: url(['redis:', 'rediss:'], (c, v) => (c.location.redis = v)),
  },
];

const MEDIA_SETTINGS: readonly Setting[] = [
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

export const EDGE_SETTINGS: readonly Setting[] = [...SIP_SETTINGS, ...MEDIA_SETTINGS];
