import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

/** Records served by the loopback DNS server, keyed by lower-case name. */
export interface LoopbackZone {
  A?: Record<string, { address: string; ttl: number }[]>;
  AAAA?: Record<string, { address: string; ttl: number }[]>;
  SRV?: Record<string, { priority: number; weight: number; port: number; name: string }[]>;
  NAPTR?: Record<
    string,
    {
      order: number;
      preference: number;
      flags: string;
      service: string;
      regexp: string;
      replacement: string;
    }[]
  >;
}

const TYPE = { A: 1, AAAA: 28, SRV: 33, NAPTR: 35 } as const;

function encodeName(name: string): Buffer {
  const parts = name
    .replace(/\.$/, '')
    .split('.')
    .filter((l) => l.length > 0);
  return Buffer.concat([
    ...parts.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])),
    Buffer.from([0]),
  ]);
}

function charString(s: string): Buffer {
  return Buffer.concat([Buffer.from([s.length]), Buffer.from(s, 'ascii')]);
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

function ipv6Bytes(address: string): Buffer {
  if (!isIPv6(address)) throw new Error(`bad IPv6 ${address}`);
  const [head = '', tail = ''] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::')
    ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t]
    : h;
  return u16(...groups.map((g) => parseInt(g, 16)));
}

function rdata(type: number, r: Record<string, unknown>): Buffer {
  if (type === TYPE.A) return Buffer.from(String(r.address).split('.').map(Number));
  if (type === TYPE.AAAA) return ipv6Bytes(String(r.address));
  if (type === TYPE.SRV)
    return Buffer.concat([
      u16(Number(r.priority), Number(r.weight), Number(r.port)),
      encodeName(String(r.name)),
    ]);
  return Buffer.concat([
    u16(Number(r.order), Number(r.preference)),
    charString(String(r.flags)),
    charString(String(r.service)),
    charString(String(r.regexp)),
    encodeName(String(r.replacement)),
  ]);
}

/** Reads the question of a query: name, type and the offset after the question. */
function readQuestion(msg: Buffer): { name: string; type: number; end: number } | undefined {
  let i = 12;
  const labels: string[] = [];
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i] ?? 0;
    labels.push(msg.toString('ascii', i + 1, i + 1 + len));
    i += 1 + len;
  }
  if (i + 5 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(i + 1), end: i + 5 };
}

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP, ephemeral port) answering A, AAAA, SRV and
 * NAPTR from a fixed zone, NODATA for known names without that type, NXDOMAIN otherwise.
 * Only for tests of the real node:dns resolver without any outside network.
 */
export class LoopbackDnsServer {
  readonly queries: string[] = [];
  #socket: Socket;

  private constructor(
    socket: Socket,
    readonly zone: LoopbackZone,
  ) {
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => {
      const reply = this.#answer(msg);
      if (reply !== undefined) socket.send(reply, rinfo.port, rinfo.address);
    });
  }

  static async start(zone: LoopbackZone): Promise<LoopbackDnsServer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new LoopbackDnsServer(socket, zone);
  }

  get address(): string {
    const a = this.#socket.address();
    return `${a.address}:${a.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #answer(msg: Buffer): Buffer | undefined {
    if (msg.length < 12) return undefined;
    const q = readQuestion(msg);
    if (q === undefined) return undefined;
    const typeName = (Object.keys(TYPE) as (keyof typeof TYPE)[]).find((k) => TYPE[k] === q.type);
    this.queries.push(`${typeName ?? q.type} ${q.name}`);
    const tables = [this.zone.A, this.zone.AAAA, this.zone.SRV, this.zone.NAPTR];
    const known = tables.some((tb) => tb?.[q.name] !== undefined);
    const records =
      typeName === undefined
        ? []
        : ((this.zone[typeName]?.[q.name] ?? []) as unknown as Record<string, unknown>[]);
    const answers = records.map((r) => {
      const data = rdata(q.type, r);
      const ttl = Buffer.alloc(4);
      ttl.writeUInt32BE(typeof r.ttl === 'number' ? r.ttl : 600);
      return Buffer.concat([u16(0xc00c, q.type, 1), ttl, u16(data.length), data]);
    });
    // flags: QR, AA, RD copied, RA; RCODE 3 (NXDOMAIN) for unknown names
    const flags = 0x8480 | ((msg.readUInt16BE(2) & 0x0100) !== 0 ? 0x0100 : 0) | (known ? 0 : 3);
    const header = u16(msg.readUInt16BE(0), flags, 1, answers.length, 0, 0);
    return Buffer.concat([header, msg.subarray(12, q.end), ...answers]);
  }
}
