/** The edge's options from the server configuration: listen points, relay address and ports. */
import { networkInterfaces } from 'node:os';
import type { ListenSpec } from '@switchboard/sip-stack';
import type { SwitchboardConfig } from '../cli/config.js';
import type { EdgeLogger, EdgeOptions } from './edge-options.js';

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
