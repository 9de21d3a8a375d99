/**
 * The SIP edge as a component of `switchboard start`: its options from the config (UDP, TCP, WS,
 * and TLS/WSS when a certificate is configured), the relay, the location service (memory or
 * Redis), and what operations need of it: where it listens, health, metrics, drain.
 */
import type { ListenSpec, ListeningPoint, TlsListenOptions } from '@switchboard/sip-stack';
import {
  MemoryLocationService,
  RedisLocationService,
  type LocationService,
} from '@switchboard/registrar';
import { RtpRelay } from '@switchboard/rtp-relay';
import { NativeMediaRelay, type NativeRelay } from '../b2bua-bridge/native-media-relay.js';
import type { Brain } from '../brain/brain.js';
import type { SwitchboardConfig } from '../cli/config.js';
import { edgeOptions } from '../edge/edge-config.js';
import { formatEdgeMetrics, type RelaySnapshot } from '../edge/edge-metrics.js';
import { EdgeNode } from '../edge/edge-node.js';
import type { EdgeLogger, EdgeMediaOptions, EdgeOptions } from '../edge/edge-options.js';
import type { MediaRelayPort } from '../edge/media-anchor.js';
import type { SecretStore } from '../store/secret-store.js';

/** The relay as the edge service holds it: the port the anchor uses and what metrics read. */
export interface OpenedRelay {
  readonly port: MediaRelayPort;
  /** The same relay for the B2BUA (sessions with options, through its MediaRelay interface). */
  readonly native: NativeRelay;
  /** e.g. `kernel, shared ports` or `userspace (reason), sockets (reason)`. */
  readonly description: string;
  readonly closed: boolean;
  info(): RelaySnapshot;
  close(): void;
}

/**
 * Creates the relay (port mode `auto`; the kernel path unless disabled, falling back to userspace
 * by itself). A relay that fails to start is logged and the edge runs without anchoring.
 */
export function openRelay(media: EdgeMediaOptions, log: EdgeLogger): OpenedRelay | undefined {
  if (media.mode === 'never') return undefined;
  let relay: RtpRelay;
  try {
    relay = RtpRelay.create({
      ports: media.ports,
      addresses: [
        media.advertised === undefined
          ? media.address
          : { address: media.address, advertised: media.advertised },
      ],
      portMode: 'auto',
      kernel: media.kernel ?? true,
      ...(media.timeoutMs === undefined ? {} : { timeoutMs: media.timeoutMs }),
      logger: log,
    });
  } catch (err) {
    log.error({ err }, 'RTP relay unavailable: media will not be anchored');
    return undefined;
  }
  const description =
    `${relay.mode}${relay.mode === 'kernel' ? '' : ` (${relay.modeReason})`}, ` +
    `${relay.portMode} ports${relay.portMode === 'shared' ? '' : ` (${relay.portModeReason})`}`;
  return {
    port: { createSession: () => relay.createSession() },
    native: relay,
    description,
    get closed() {
      return relay.closed;
    },
    info: () => relay.info(),
    close: () => relay.close(),
  };
}

/** The edge's listen specs: the configured plain transports, plus TLS and WSS with a certificate. */
export function serviceOptions(config: SwitchboardConfig, logger: EdgeLogger): EdgeOptions {
  const base = edgeOptions(config, logger);
  const { sip } = config;
  const listen: ListenSpec[] = [...base.listen];
  if (sip.tls.cert !== undefined && sip.tls.key !== undefined) {
    const tls: TlsListenOptions = { certFile: sip.tls.cert, keyFile: sip.tls.key };
    // Mutual TLS: with a CA configured, clients must present a certificate it signed.
    if (sip.tls.ca !== undefined)
      Object.assign(tls, { caFile: sip.tls.ca, requestCert: true, rejectUnauthorized: true });
    if (sip.tlsPort !== null)
      listen.push({ protocol: 'tls', address: sip.host, port: sip.tlsPort, tls });
    // RFC 7118: SIP over secure WebSocket, on the same certificate.
    if (sip.wssPort !== null)
      listen.push({ protocol: 'wss', address: sip.host, port: sip.wssPort, tls });
  }
  return {
    ...base,
    listen,
    relayForeignDomains: sip.relayForeignDomains,
    algorithms: sip.digestAlgorithms,
    nonceTtlMs: sip.nonceTtlSec * 1000,
    outbound: sip.outbound,
    transfersFromTrunks: sip.transfersFromTrunks,
    trunkProbeIntervalMs: sip.trunkProbeIntervalSec * 1000,
    qualifyIntervalMs: sip.qualifyIntervalSec * 1000,
    keepAliveIntervalMs: sip.keepAliveIntervalSec * 1000,
    drainRetryAfterSec: Math.max(1, config.drainTimeoutSec),
  };
}

export type SipHealth = 'ok' | 'down';
export type RelayHealth = 'kernel' | 'userspace' | 'off' | 'down';

export interface EdgeService {
  readonly name: 'sip-edge';
  readonly node: EdgeNode | undefined;
  readonly relay: OpenedRelay | undefined;
  readonly location: LocationService | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Refuses new dialogs, waits for calls to end; true when none was left at the deadline. */
  drain(timeoutMs: number): Promise<boolean>;
  /** Lines for people: where SIP listens and how media is relayed. */
  describe(): string[];
  health(): { sip: SipHealth; relay: RelayHealth };
  /** Calls the edge tracks now. */
  activeCalls(): number;
  metrics(): Promise<string>;
}

/** How the relay forwards (`off` when media is never anchored, `down` when it is not open). */
export function relayHealth(mode: string, relay: OpenedRelay | undefined): RelayHealth {
  if (mode === 'never') return 'off';
  if (relay === undefined || relay.closed) return 'down';
  return relay.info().mode === 'kernel' ? 'kernel' : 'userspace';
}

/** The location service `location.redis` asks for: Redis (checked reachable) or in memory. */
export async function openLocation(config: SwitchboardConfig): Promise<LocationService> {
  const redis = config.location.redis;
  if (redis === undefined) return new MemoryLocationService();
  const location = new RedisLocationService({ redis });
  try {
    await location.count();
  } catch (err) {
    await location.close();
    throw new Error(`location.redis: cannot reach ${redis} (${(err as Error).message})`);
  }
  return location;
}

const where = (lp: ListeningPoint): string =>
  `${lp.protocol} ${lp.local.address.includes(':') ? `[${lp.local.address}]` : lp.local.address}:${lp.local.port}`;

export function createEdgeService(
  config: SwitchboardConfig,
  brain: Brain,
  logger: EdgeLogger,
  secrets?: Pick<SecretStore, 'get'>,
): EdgeService {
  const options = serviceOptions(config, logger);
  let node: EdgeNode | undefined;
  let relay: OpenedRelay | undefined;
  let location: LocationService | undefined;
  const release = async (): Promise<void> => {
    relay?.close();
    await location?.close();
  };
  return {
    name: 'sip-edge',
    get node() {
      return node;
    },
    get relay() {
      return relay;
    },
    get location() {
      return location;
    },
    async start() {
      location = await openLocation(config);
      relay = openRelay(options.media, logger);
      node = new EdgeNode(options, {
        brain,
        location,
        ...(relay === undefined
          ? {}
          : { relay: relay.port, mediaRelay: new NativeMediaRelay(relay.native) }),
        ...(secrets === undefined ? {} : { secrets }),
      });
      try {
        const points = await node.start();
        logger.info(
          {
            listen: points.map(where),
            media: relay?.description ?? 'off',
            location: config.location.redis === undefined ? 'memory' : 'redis',
          },
          'SIP edge started',
        );
      } catch (err) {
        await release();
        throw err;
      }
    },
    async stop() {
      await node?.stop();
      await release();
    },
    drain: (timeoutMs) => node?.drain(timeoutMs) ?? Promise.resolve(true),
    describe() {
      if (node === undefined) return [];
      const media =
        relay === undefined
          ? 'media not anchored'
          : `media anchored (${options.media.mode}): ${relay.description}`;
      const loc = config.location.redis === undefined ? '' : '; registrations in Redis';
      return [`SIP listening on ${node.listeningPoints().map(where).join(', ')}; ${media}${loc}.`];
    },
    health() {
      const sip: SipHealth = node?.started === true ? 'ok' : 'down';
      return { sip, relay: relayHealth(options.media.mode, relay) };
    },
    activeCalls: () => node?.calls.size ?? 0,
    async metrics() {
      if (node === undefined) return '';
      const info = relay !== undefined && !relay.closed ? relay.info() : undefined;
      return formatEdgeMetrics(await node.snapshot(info));
    },
  };
}
