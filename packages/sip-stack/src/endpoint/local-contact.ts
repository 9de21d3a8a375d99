/** Our own Contact URIs (RFC 3261 §8.1.1.8, §12.1.1): one per transport we listen on. */
import { networkInterfaces } from 'node:os';
import type { ListeningPoint, TransportProtocol } from '../transport/transport.js';
import { formatHostPort, ipFamily, isWildcard } from '../transport/ip-address.js';

export interface LocalContactOptions {
  host?: string | undefined;
  user?: string | undefined;
}

function primaryAddress(family: 4 | 6): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? [])
      if (!a.internal && (a.family === 'IPv4' ? 4 : 6) === family) return a.address;
  }
  return family === 6 ? '::1' : '127.0.0.1';
}

export class LocalContact {
  readonly #points: () => readonly ListeningPoint[];
  readonly #host: string | undefined;
  readonly #user: string | undefined;

  constructor(points: () => readonly ListeningPoint[], options: LocalContactOptions = {}) {
    this.#points = points;
    this.#host = options.host;
    this.#user = options.user;
  }

  /** The listening point a message over `protocol` leaves from (same protocol, else the first). */
  pointFor(protocol: TransportProtocol): ListeningPoint | undefined {
    const points = this.#points();
    return points.find((p) => p.protocol === protocol) ?? points[0];
  }

  /** Host (IPv6 in brackets) other parties reach us at over `protocol`. */
  host(protocol: TransportProtocol): string {
    if (this.#host !== undefined) return formatHostPort(this.#host);
    const lp = this.pointFor(protocol);
    if (lp === undefined) return '127.0.0.1';
    if (lp.advertised !== undefined) return formatHostPort(lp.advertised.host);
    const a = lp.local.address;
    return formatHostPort(isWildcard(a) ? primaryAddress(ipFamily(a) === 6 ? 6 : 4) : a);
  }

  /** `sip:[user@]host:port[;transport=x]` for messages over `protocol`. */
  uri(protocol: TransportProtocol, user: string | undefined = this.#user): string {
    const lp = this.pointFor(protocol);
    const port = lp?.advertised?.port ?? (lp?.protocol === protocol ? lp.local.port : undefined);
    const userPart = user === undefined || user === '' ? '' : `${user}@`;
    const hostPort = port === undefined ? this.host(protocol) : `${this.host(protocol)}:${port}`;
    // RFC 3261 §19.1.1: the transport parameter names the transport; UDP is the default.
    const param = protocol === 'udp' ? '' : `;transport=${protocol}`;
    return `sip:${userPart}${hostPort}${param}`;
  }

  /** A Contact header value for messages over `protocol`. */
  header(protocol: TransportProtocol): string {
    return `<${this.uri(protocol)}>`;
  }
}
