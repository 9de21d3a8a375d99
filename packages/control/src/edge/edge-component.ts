/** The SIP edge as a component of `switchboard start`: options from the config, start and stop. */
import { networkInterfaces } from 'node:os';
import type { ListenSpec, ListeningPoint } from '@switchboard/sip-stack';
import type { Brain } from '../brain/brain.js';
import type { SwitchboardConfig } from '../cli/config.js';
import { EdgeNode } from './edge-node.js';
import type { EdgeLogger, EdgeOptions } from './edge-options.js';
import { startRelay, type StartedRelay } from './relay-port.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** The first external IPv4 address of the machine (for SDP and Record-Route behind a wildcard). */
export function firstExternalAddress(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

export function edgeOptions(config: SwitchboardConfig, logger: EdgeLogger): EdgeOptions {
  const { sip, media } = config;
  const wildcard = WILDCARDS.has(sip.host);
  const listen: ListenSpec[] = [];
  if (sip.udpPort !== null) listen.push({ protocol: 'udp', address: sip.host, port: sip.udpPort });
  if (sip.tcpPort !== null) listen.push({ protocol: 'tcp', address: sip.host, port: sip.tcpPort });
  if (sip.wsPort !== null) listen.push({ protocol: 'ws', address: sip.host, port: sip.wsPort });
  const advertisedHost = sip.advertisedHost ?? (wildcard ? firstExternalAddress() : undefined);
  const address =
    media.address ?? (wildcard ? (advertisedHost ?? firstExternalAddress()) : sip.host);
  return {
    listen,
    media: {
      mode: media.mode,
      address,
      ...(media.advertised === undefined ? {} : { advertised: media.advertised }),
      ports: { min: media.portMin, max: media.portMax },
      kernel: media.kernel,
    },
    ...(advertisedHost === undefined ? {} : { advertisedHost }),
    logger,
  };
}

export interface EdgeComponent {
  readonly name: 'sip-edge';
  readonly node: EdgeNode | undefined;
  readonly relay: StartedRelay | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Lines for people: where SIP listens and how media is relayed. */
  describe(): string[];
}

export function createEdgeComponent(
  config: SwitchboardConfig,
  brain: Brain,
  logger: EdgeLogger,
): EdgeComponent {
  const options = edgeOptions(config, logger);
  let node: EdgeNode | undefined;
  let relay: StartedRelay | undefined;
  const where = (lp: ListeningPoint): string =>
    `${lp.protocol} ${lp.local.address.includes(':') ? `[${lp.local.address}]` : lp.local.address}:${lp.local.port}`;
  return {
    name: 'sip-edge',
    get node() {
      return node;
    },
    get relay() {
      return relay;
    },
    async start() {
      relay = startRelay(options.media, logger);
      node = new EdgeNode(options, {
        brain,
        ...(relay === undefined ? {} : { relay: relay.port }),
      });
      try {
        const points = await node.start();
        logger.info(
          { listen: points.map(where), media: relay?.description ?? 'off' },
          'SIP edge started',
        );
      } catch (err) {
        relay?.close();
        throw err;
      }
    },
    async stop() {
      await node?.stop();
      relay?.close();
    },
    describe() {
      if (node === undefined) return [];
      const media =
        relay === undefined
          ? 'media not anchored'
          : `media anchored (${options.media.mode}): ${relay.description}`;
      return [`SIP listening on ${node.listeningPoints().map(where).join(', ')}; ${media}.`];
    },
  };
}
