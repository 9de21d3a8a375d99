/**
 * IP-authenticated inbound trunks: a carrier that does not register or answer digest challenges is
 * recognised by the address its requests come from (addresses or CIDR blocks, optionally ports and
 * transports). Built once from configuration, which is checked then; matching never throws.
 */
import { BlockList, isIP } from 'node:net';
import type { Flow, TransportProtocol } from '@switchboard/sip-stack';

export interface InboundTrunk {
  id: string;
  /** Source addresses: '203.0.113.5', '203.0.113.0/24', '2001:db8::/32'. */
  addresses: readonly string[];
  /** Source ports accepted (default any). */
  ports?: readonly number[];
  /** Transports accepted (default any). */
  protocols?: readonly TransportProtocol[];
}

/** Why the configuration of one trunk was refused. */
export interface TrunkConfigError {
  code: 'B2BUA_ERR_CONFIG';
  trunk: string;
  field: 'id' | 'addresses' | 'ports';
  reason: string;
}

export type TrunkMatcherResult<T extends InboundTrunk> =
  { ok: true; matcher: TrunkMatcher<T> } | { ok: false; error: TrunkConfigError };

interface Entry<T> {
  trunk: T;
  list: BlockList;
  ports: ReadonlySet<number> | undefined;
  protocols: ReadonlySet<string> | undefined;
}

/** '::ffff:192.0.2.1' (an IPv4 peer on a dual-stack socket) is 192.0.2.1. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address.replace(/^\[|\]$/g, '');
}

function family(address: string): 'ipv4' | 'ipv6' | undefined {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : undefined;
}

/** Adds one address or CIDR block; the reason when it is not one. */
function addSource(list: BlockList, source: string): string | undefined {
  const [raw = '', prefix, extra] = source.trim().split('/');
  const address = plainAddress(raw);
  const type = family(address);
  if (type === undefined || extra !== undefined) return `not an address or CIDR block: ${source}`;
  if (prefix === undefined) {
    list.addAddress(address, type);
    return undefined;
  }
  const bits = Number(prefix);
  const max = type === 'ipv4' ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || bits > max) return `bad prefix length in ${source}`;
  list.addSubnet(address, bits, type);
  return undefined;
}

export class TrunkMatcher<T extends InboundTrunk = InboundTrunk> {
  readonly #entries: readonly Entry<T>[];

  private constructor(entries: readonly Entry<T>[]) {
    this.#entries = entries;
  }

  /** Checks every trunk's addresses and ports; the first problem names the trunk and field. */
  static create<T extends InboundTrunk>(trunks: readonly T[]): TrunkMatcherResult<T> {
    const entries: Entry<T>[] = [];
    for (const trunk of trunks) {
      const fail = (field: TrunkConfigError['field'], reason: string): TrunkMatcherResult<T> => ({
        ok: false,
        error: { code: 'B2BUA_ERR_CONFIG', trunk: trunk.id, field, reason },
      });
      if (trunk.id === '') return fail('id', 'a trunk needs an id');
      if (trunk.addresses.length === 0) return fail('addresses', 'no source address');
      const list = new BlockList();
      for (const source of trunk.addresses) {
        const problem = addSource(list, source);
        if (problem !== undefined) return fail('addresses', problem);
      }
      const badPort = trunk.ports?.find((p) => !Number.isInteger(p) || p < 1 || p > 65535);
      if (badPort !== undefined) return fail('ports', `bad port ${badPort}`);
      entries.push({
        trunk,
        list,
        ports: trunk.ports === undefined ? undefined : new Set(trunk.ports),
        protocols: trunk.protocols === undefined ? undefined : new Set(trunk.protocols),
      });
    }
    return { ok: true, matcher: new TrunkMatcher(entries) };
  }

  /** The first trunk the source belongs to (configuration order), or undefined. */
  match(source: { address: string; port: number; protocol?: TransportProtocol }): T | undefined {
    const address = plainAddress(source.address);
    const type = family(address);
    if (type === undefined) return undefined;
    for (const e of this.#entries) {
      if (!e.list.check(address, type)) continue;
      if (e.ports !== undefined && !e.ports.has(source.port)) continue;
      if (
        e.protocols !== undefined &&
        source.protocol !== undefined &&
        !e.protocols.has(source.protocol)
      )
        continue;
      return e.trunk;
    }
    return undefined;
  }

  /** The trunk a request's flow came from (its transport source address, not its Via). */
  matchFlow(flow: Flow): T | undefined {
    return this.match({ ...flow.remote, protocol: flow.protocol });
  }
}
