/**
 * Contact aliasing for UAs behind NAT, the way Kamailio's nathelper does it (`add_contact_alias`
 * / `handle_ruri_alias`): a Contact whose address is not where the message came from gets an
 * `;alias=ip~port~proto` parameter naming the real source (proto: 1 udp, 2 tcp, 3 tls, 5 ws,
 * 6 wss), and an in-dialog request whose Request-URI carries it is sent there, alias removed.
 * The format is the registrar's (`withContactAlias`), so aliased bindings route the same way.
 */
import { formatNameAddr, parseContact } from '../message/name-addr.js';
import type { SipMessage } from '../message/sip-message.js';
import { formatUri, isSipUri, parseUri } from '../message/sip-uri.js';
import { ipFamily, normaliseAddress, sameAddress } from '../transport/ip-address.js';
import { DEFAULT_PORTS, type Target, type TransportProtocol } from '../transport/transport.js';
import { uriProtocol } from './next-hop.js';

export const ALIAS_PARAM = 'alias';

/** Where a message really came from (a flow's remote end, or the next hop a response came back from). */
export interface AliasSource {
  protocol: TransportProtocol;
  address: string;
  port: number;
}

const PROTO_CODE: Readonly<Record<TransportProtocol, string>> = {
  udp: '1',
  tcp: '2',
  tls: '3',
  ws: '5',
  wss: '6',
};

function formatAlias(s: AliasSource): string {
  const a = normaliseAddress(s.address);
  const host = ipFamily(a) === 6 ? `[${a}]` : a;
  return `${host}~${s.port}~${PROTO_CODE[s.protocol]}`;
}

/** The target an alias value names; undefined when malformed. */
export function parseAlias(value: string): Target | undefined {
  const m = /^(.+)~(\d{1,5})~([1-6])$/.exec(value);
  if (m === null) return undefined;
  const address = normaliseAddress(m[1] as string);
  const port = Number(m[2]);
  const protocol = (Object.keys(PROTO_CODE) as TransportProtocol[]).find(
    (p) => PROTO_CODE[p] === m[3],
  );
  if (ipFamily(address) === 0 || protocol === undefined || port < 1 || port > 65535)
    return undefined;
  return { protocol, address, port };
}

/**
 * Adds the alias to the message's (first) Contact when the Contact does not name `source`:
 * another address, port or transport, or a host name (`*.invalid` of WebSocket clients).
 * Returns whether the Contact changed. A Contact that does not parse is left alone.
 */
export function addContactAlias(message: SipMessage, source: AliasSource): boolean {
  const values = message.headers.values('Contact');
  const first = values[0];
  if (first === undefined) return false;
  const contact = parseContact(first);
  if (!contact.ok || contact.value.star) return false;
  const parsed = parseUri(contact.value.uri);
  if (!parsed.ok || !isSipUri(parsed.uri)) return false;
  const uri = parsed.uri;
  const protocol = uriProtocol(uri);
  const port = uri.port ?? (protocol === undefined ? undefined : DEFAULT_PORTS[protocol]);
  const behindNat =
    ipFamily(uri.host) === 0 ||
    !sameAddress(uri.host, source.address) ||
    port !== source.port ||
    protocol !== source.protocol;
  const alias = formatAlias(source);
  if (!behindNat || uri.params.get(ALIAS_PARAM) === alias) return false;
  const params = new Map(uri.params);
  params.set(ALIAS_PARAM, alias);
  const aliased = formatUri({ ...uri, headers: uri.headers, params });
  // Edit in place (display name and header parameters as sent); an addr-spec gets angle brackets.
  const inAngles = `<${contact.value.uri}>`;
  values[0] = first.includes(inAngles)
    ? first.replace(inAngles, () => `<${aliased}>`)
    : formatNameAddr({ ...contact.value, uri: aliased });
  message.headers.set('Contact', values);
  return true;
}

/**
 * RFC 3261 §16.12 with Kamailio's `handle_ruri_alias`: a Request-URI carrying our alias names
 * where the UA behind NAT really is. Returns the URI without the alias and that target.
 */
export function takeUriAlias(requestUri: string): { uri: string; target: Target } | undefined {
  if (!requestUri.includes(`${ALIAS_PARAM}=`)) return undefined;
  const parsed = parseUri(requestUri);
  if (!parsed.ok || !isSipUri(parsed.uri)) return undefined;
  const value = parsed.uri.params.get(ALIAS_PARAM);
  const target = value === undefined || value === null ? undefined : parseAlias(value);
  if (target === undefined) return undefined;
  const params = new Map(parsed.uri.params);
  params.delete(ALIAS_PARAM);
  return { uri: formatUri({ ...parsed.uri, headers: parsed.uri.headers, params }), target };
}
