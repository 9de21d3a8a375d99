/**
 * A small edge on 127.0.0.1 for routing tests: transport, transactions, the stateful proxy with
 * EdgeRouter and a TrunkDispatcher on one manual clock (timeouts fire when the test advances
 * it), the registrar, a LocalBrain over the PBX fixture store; and fake carrier gateways.
 */
import { createSocket } from 'node:dgram';
import {
  ManualClock,
  SipProxy,
  SipResolver,
  TransactionLayer,
  TransportLayer,
  createEndpoint,
  type IncomingRequest,
  type DnsResolver,
  type SipEndpoint,
  type SipRequest,
  type TransactionUser,
} from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar } from '@switchboard/registrar';
import { LocalBrain } from '../../../src/brain/local-brain.js';
import { BrainDigest } from '../../../src/edge/brain-digest.js';
import { BrainRegistrarAuthenticator } from '../../../src/edge/brain-registrar-authenticator.js';
import { EdgeCalls, dispositionOf } from '../../../src/edge/edge-calls.js';
import { silentLogger } from '../../../src/edge/edge-options.js';
import { EdgeRouter } from '../../../src/edge/edge-router.js';
import { MediaAnchor } from '../../../src/edge/media-anchor.js';
import {
  TrunkDispatcher,
  type TrunkDispatcherOptions,
} from '../../../src/edge/trunk-dispatcher.js';
import { buildPbx, PASSWORD, type PbxFixture } from '../../support/pbx-fixture.js';
import { create, openTestStore, type TestStore } from '../../support/test-store.js';

interface Teardown {
  teardown(fn: () => unknown): void;
}

/** The foreign domain of relay tests: `relay.test` is 127.0.0.1 (no real DNS in tests). */
export const RELAY_DOMAIN = 'relay.test';

const fakeDns: DnsResolver = {
  resolve4: (name) =>
    Promise.resolve(name === RELAY_DOMAIN ? [{ address: '127.0.0.1', ttl: 60 }] : []),
  resolve6: () => Promise.resolve([]),
  resolveSrv: () => Promise.resolve([]),
  resolveNaptr: () => Promise.resolve([]),
};

export interface TrunkEdge {
  clock: ManualClock;
  ts: TestStore;
  pbx: PbxFixture;
  brain: LocalBrain;
  calls: EdgeCalls;
  trunks: TrunkDispatcher;
  proxy: SipProxy;
  port: number;
  /** Route header values that send a UA's requests through the edge. */
  route: string[];
}

export interface TrunkEdgeOptions {
  relayForeignDomains?: boolean;
  dispatcher?: Partial<Omit<TrunkDispatcherOptions, 'transactions' | 'clock'>>;
}

export async function startTrunkEdge(t: Teardown, o: TrunkEdgeOptions = {}): Promise<TrunkEdge> {
  const ts = openTestStore();
  const pbx = await buildPbx(ts.store);
  const brain = new LocalBrain({ directory: ts.store.directory, clock: ts.clock });
  const clock = new ManualClock();
  const log = silentLogger;
  const transport = new TransportLayer({ clock, logger: log });
  await transport.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  const transactions = new TransactionLayer({ transport, clock, logger: log });
  transport.onMessage((m) => transactions.receive(m));
  const calls = new EdgeCalls({ brain, logger: log });
  const media = new MediaAnchor({ relay: undefined, mode: 'never', calls, logger: log });
  const registrar = new Registrar({
    location: new MemoryLocationService(),
    authenticator: new BrainRegistrarAuthenticator(new BrainDigest({ brain, mode: 'www' })),
    logger: log,
  });
  const trunks = new TrunkDispatcher({ transactions, clock, logger: log, ...o.dispatcher });
  const router = new EdgeRouter({
    brain,
    registrar,
    digest: new BrainDigest({ brain, mode: 'proxy' }),
    calls,
    media,
    isLocalDomain: (host) => host === pbx.domain,
    isOurDomain: (host) => host === pbx.domain,
    relayForeignDomains: o.relayForeignDomains ?? false,
    trunks,
    now: () => clock.now(),
    logger: log,
  });
  const proxy = new SipProxy({
    transactions,
    transport,
    clock,
    resolver: new SipResolver({ resolver: fakeDns, clock }),
    route: router.route,
    routeInDialog: true,
    hooks: {
      onFinalResponse: ({ request, response }) => {
        // The call ends on its BYE's final response (EdgeCalls.byeAnswered), not as the BYE passes.
        if (request.method === 'BYE')
          return void calls.byeAnswered(request.callId, response.status);
        if (request.method !== 'INVITE' || request.toTag !== undefined) return;
        if (response.status < 300) return calls.answered(request.callId);
        void calls.end(request.callId, dispositionOf(response.status), `sip ${response.status}`);
      },
    },
  });
  const user: TransactionUser = {
    onRequest: (tx, incoming) => {
      const m = incoming.message;
      if (m.kind === 'request' && m.method === 'REGISTER') {
        void registrar.handle(m, incoming.flow).then((r) => tx.respond(r));
        return;
      }
      proxy.onRequest(tx, incoming);
    },
    onStrayAck: (m) => proxy.onStrayAck(m),
    onStrayResponse: (m) => proxy.onStrayResponse(m),
    onServerTransactionError: (err, tx) => proxy.onServerTransactionError(err, tx),
  };
  transactions.setUser(user);
  const port = transport.listeningPoints()[0]?.local.port ?? 0;
  t.teardown(async () => {
    trunks.stop();
    await calls.endAll('test over');
    transactions.dispose();
    await transport.close();
    registrar.close();
    await brain.close();
    await ts.close();
  });
  return {
    clock,
    ts,
    pbx,
    brain,
    calls,
    trunks,
    proxy,
    port,
    route: [`<sip:127.0.0.1:${port};lr>`],
  };
}

/** A device of the PBX fixture as a UA (credentials for our realm only). */
export async function deviceUa(t: Teardown, edge: TrunkEdge, auth: string): Promise<SipEndpoint> {
  const ua = await createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    contactUser: auth,
    from: `<sip:${auth}@${edge.pbx.domain}>`,
    credentials: { username: auth, password: PASSWORD, realm: edge.pbx.domain },
  });
  t.teardown(() => ua.close());
  return ua;
}

export async function registerUa(edge: TrunkEdge, ua: SipEndpoint, auth: string): Promise<number> {
  const aor = `<sip:${auth}@${edge.pbx.domain}>`;
  const r = await ua.request({
    method: 'REGISTER',
    uri: `sip:${edge.pbx.domain}`,
    from: aor,
    to: aor,
    target: { protocol: 'udp', address: '127.0.0.1', port: edge.port },
    headers: { Expires: '300' },
  });
  return r.status;
}

export function sdp(port: number): string {
  return (
    `v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`
  );
}

export type GatewayBehaviour = 'answer' | 'busy' | 'unavailable' | 'challenge' | 'ring';

export interface FakeGateway {
  port: number;
  invites: SipRequest[];
  options: number;
  /** INVITEs left ringing (behaviour 'ring'). */
  ringing: IncomingRequest[];
  endpoint: SipEndpoint;
}

/** A carrier gateway on 127.0.0.1 answering every INVITE the same way; OPTIONS get 200. */
export async function fakeGateway(t: Teardown, behaviour: GatewayBehaviour): Promise<FakeGateway> {
  const endpoint = await createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    contactUser: 'gw',
  });
  t.teardown(() => endpoint.close());
  const gw: FakeGateway = {
    port: endpoint.listeningPoints()[0]?.local.port ?? 0,
    invites: [],
    options: 0,
    ringing: [],
    endpoint,
  };
  endpoint.onRequest('OPTIONS', (req) => {
    gw.options++;
    req.respond(200);
  });
  endpoint.onRequest('INVITE', (req) => {
    gw.invites.push(req.request);
    if (behaviour === 'answer') {
      req.accept({ body: sdp(40000), contentType: 'application/sdp' });
      return;
    }
    if (behaviour === 'ring') {
      req.progress(180);
      gw.ringing.push(req);
      return;
    }
    if (behaviour === 'challenge') {
      req.respond(407, {
        headers: {
          'Proxy-Authenticate': 'Digest realm="carrier.test", nonce="abc", algorithm=MD5',
        },
      });
      return;
    }
    req.respond(behaviour === 'busy' ? 486 : 503);
  });
  return gw;
}

/** A UDP peer that swallows everything (a gateway gone silent). */
export async function silentGateway(t: Teardown): Promise<{ port: number; invites: () => number }> {
  const socket = createSocket('udp4');
  let invites = 0;
  socket.on('message', (m) => {
    if (m.subarray(0, 7).toString('latin1') === 'INVITE ') invites++;
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.teardown(() => socket.close());
  return { port: socket.address().port, invites: () => invites };
}

/** A trunk to 127.0.0.1:<port> of the fixture's account. */
export function addTrunk(
  edge: TrunkEdge,
  port: number,
  extra: Record<string, unknown> = {},
): Promise<string> {
  return create(edge.ts.store, 'sip_trunk', {
    account_id: edge.pbx.accountId,
    name: `gw ${port}`,
    proxy_host: '127.0.0.1',
    proxy_port: port,
    transport: 'udp',
    ...extra,
  });
}

/** An outbound route for numbers starting with `prefix` over these trunks, in order. */
export function addRoute(edge: TrunkEdge, prefix: string, trunkIds: string[]): Promise<string> {
  return create(edge.ts.store, 'outbound_route', {
    account_id: edge.pbx.accountId,
    name: `route ${prefix}`,
    prefix,
    trunks: trunkIds.map((id) => ({ trunk_id: id })),
  });
}

/** Waits (bounded) until `check` holds; lets datagrams and promise callbacks run. */
export async function until(check: () => boolean, what: string, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
