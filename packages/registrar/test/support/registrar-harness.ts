/**
 * A registrar on a real endpoint (UDP and TCP on 127.0.0.1, ephemeral ports) with an in-memory
 * location service on a ManualClock, and user agents that register to it.
 */
import type { Test } from 'tap';
import {
  ManualClock,
  createEndpoint,
  type EndpointOptions,
  type HeaderValues,
  type DigestUserCredentials,
  type SipEndpoint,
  type SipResponse,
  type Target,
  type TransportProtocol,
} from '@switchboard/sip-stack';
import {
  MemoryLocationService,
  Registrar,
  attachRegistrar,
  type Binding,
  type RegistrarEvents,
  type RegistrarOptions,
} from '../../src/index.js';

export interface Harness {
  clock: ManualClock;
  server: SipEndpoint;
  location: MemoryLocationService;
  registrar: Registrar;
  /** Where the registrar listens for `protocol`. */
  target(protocol: TransportProtocol): Target;
}

export async function startRegistrar(
  t: Test,
  options: Partial<RegistrarOptions> = {},
  endpoint: Partial<EndpointOptions> = {},
): Promise<Harness> {
  const clock = new ManualClock(1_700_000_000_000);
  const server = await createEndpoint({
    listen: [
      { protocol: 'udp', address: '127.0.0.1', port: 0 },
      { protocol: 'tcp', address: '127.0.0.1', port: 0 },
    ],
    supported: ['path', 'outbound'],
    ...endpoint,
  });
  const location = new MemoryLocationService({ clock });
  const registrar = new Registrar({
    location,
    clock,
    date: () => new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    ...options,
  });
  const detach = attachRegistrar(registrar, server);
  t.teardown(async () => {
    detach();
    registrar.close();
    await location.close();
    await server.close();
  });
  const target = (protocol: TransportProtocol): Target => {
    const lp = server.listeningPoints().find((p) => p.protocol === protocol);
    if (lp === undefined) throw new Error(`no ${protocol} listening point`);
    return { protocol, address: lp.local.address, port: lp.local.port };
  };
  return { clock, server, location, registrar, target };
}

export async function startUa(t: Test, protocol: TransportProtocol = 'udp'): Promise<SipEndpoint> {
  const ua = await createEndpoint({
    listen: [{ protocol, address: '127.0.0.1', port: 0 }],
    supported: ['path', 'outbound'],
  });
  t.teardown(() => ua.close());
  return ua;
}

/** `sip:user@127.0.0.1:port[;transport=x]` for the UA's listening point. */
export function uaContact(ua: SipEndpoint, user: string): string {
  const lp = ua.listeningPoints()[0];
  if (lp === undefined) throw new Error('no listening point');
  const param = lp.protocol === 'udp' ? '' : `;transport=${lp.protocol}`;
  return `sip:${user}@${lp.local.address}:${lp.local.port}${param}`;
}

export interface RegisterOptions {
  user: string;
  domain?: string;
  protocol?: TransportProtocol;
  /** Contact header values; [] sends none (a query). Default: the UA's own contact. */
  contacts?: readonly string[];
  expires?: number;
  callId?: string;
  cseq?: number;
  headers?: HeaderValues;
  credentials?: DigestUserCredentials;
}

export function register(h: Harness, ua: SipEndpoint, o: RegisterOptions): Promise<SipResponse> {
  const domain = o.domain ?? 'a.example';
  const aor = `<sip:${o.user}@${domain}>`;
  const contacts = o.contacts ?? [`<${uaContact(ua, o.user)}>`];
  const headers: HeaderValues = { ...o.headers };
  if (contacts.length > 0) headers['Contact'] = contacts;
  if (o.expires !== undefined) headers['Expires'] = String(o.expires);
  return ua.request({
    method: 'REGISTER',
    uri: `sip:${domain}`,
    from: aor,
    to: aor,
    contact: false,
    target: h.target(o.protocol ?? ua.listeningPoints()[0]?.protocol ?? 'udp'),
    headers,
    ...(o.callId === undefined ? {} : { callId: o.callId }),
    ...(o.cseq === undefined ? {} : { cseq: o.cseq }),
    ...(o.credentials === undefined ? {} : { credentials: o.credentials }),
  });
}

/** Contact values of a response as `[uri, expires]`. */
export function listed(response: SipResponse): [string, number | undefined][] {
  return response.contacts.map((c) => [c.uri, c.expires]);
}

/** Every event of a kind the registrar emits, recorded. */
export function recordEvents<K extends keyof RegistrarEvents>(
  r: Registrar,
  event: K,
): RegistrarEvents[K][] {
  const seen: RegistrarEvents[K][] = [];
  r.on(event, (...args: RegistrarEvents[K]) => void seen.push(args));
  return seen;
}

/** The next event of a kind; the deadline only keeps a broken test from hanging. */
export function nextEvent<K extends keyof RegistrarEvents>(
  r: Registrar,
  event: K,
  deadlineMs = 10_000,
): Promise<RegistrarEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' event`)), deadlineMs);
    r.once(event, (...args: RegistrarEvents[K]) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

export function keys(bindings: readonly Binding[]): string[] {
  return bindings.map((b) => b.key);
}
