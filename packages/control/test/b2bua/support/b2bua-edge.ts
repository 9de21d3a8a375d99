/**
 * A small edge with the B2BUA gateway wired the way EdgeNode wires it, plus the edge's
 * TrunkDispatcher handed to the gateway (trunk failover tests): transport →
 * transactions → gateway dispatcher → (REGISTER → registrar | proxy), and a routing callback
 * that authenticates, asks the brain and delegates `outbound` decisions to the B2BUA. Its own
 * SQLite store holds one account, one user and trunks to given hosts and ports, in order.
 */
import { MemoryLocationService, Registrar } from '@switchboard/registrar';
import { RtpRelay } from '@switchboard/rtp-relay';
import type { MediaRelay, MediaRelaySession } from '@switchboard/b2bua';
import {
  SipProxy,
  TransactionLayer,
  TransportLayer,
  isSipUri,
  type RouteDecision as ProxyDecision,
  type RouteFunction,
  type TransactionUser,
} from '@switchboard/sip-stack';
import { B2buaGateway } from '../../../src/b2bua-bridge/b2bua-gateway.js';
import { NativeMediaRelay } from '../../../src/b2bua-bridge/native-media-relay.js';
import { CallRecorder } from '../../../src/brain/call-recorder.js';
import { LocalBrain } from '../../../src/brain/local-brain.js';
import { BrainDigest } from '../../../src/edge/brain-digest.js';
import { BrainRegistrarAuthenticator } from '../../../src/edge/brain-registrar-authenticator.js';
import { EdgeCalls } from '../../../src/edge/edge-calls.js';
import { silentLogger } from '../../../src/edge/edge-options.js';
import { TrunkDispatcher } from '../../../src/edge/trunk-dispatcher.js';
import { create, openTestStore, type TestStore } from '../../support/test-store.js';

export const DOMAIN = 'pbx.b2bua.test';
export const PASSWORD = 'correct-horse-1';
/** Numbers starting with this go out through the test trunk. */
export const TRUNK_PREFIX = '1555';
/** baresip 1.0 answers only the first challenge and knows only MD5 (RFC 2617). */
const DIGEST = ['MD5'] as const;

export interface TrunkSpec {
  host: string;
  port: number;
  maxChannels?: number;
}

export interface B2buaEdgeOptions {
  /** Address SIP and the relay bind (and advertise). */
  address: string;
  /** The outbound route's trunks, in failover order. */
  trunks: readonly TrunkSpec[];
  rtpPorts: { min: number; max: number };
}

export interface B2buaEdge {
  sipPort: number;
  store: TestStore;
  brain: LocalBrain;
  gateway: B2buaGateway;
  calls: EdgeCalls;
  dispatcher: TrunkDispatcher;
  relay: RtpRelay;
  /** Every relay session the B2BUA created, in order. */
  sessions: MediaRelaySession[];
  close(): Promise<void>;
}

/** Records the sessions a relay hands out (to read their counters in the test). */
function recording(relay: MediaRelay, sessions: MediaRelaySession[]): MediaRelay {
  return {
    createSession: async (options) => {
      const s = await relay.createSession(options);
      sessions.push(s);
      return s;
    },
  };
}

async function provision(ts: TestStore, trunks: readonly TrunkSpec[]): Promise<void> {
  const store = ts.store;
  const accountId = await create(store, 'account', {
    name: 'B2BUA test',
    timezone: 'UTC',
    max_in: 10,
    max_out: 10,
  });
  const domainId = await create(store, 'sip_domain', { account_id: accountId, domain: DOMAIN });
  const alice = await create(store, 'sip_user', {
    account_id: accountId,
    domain_id: domainId,
    username: 'alice',
    caller_id_number: '15550001111',
  });
  await create(store, 'sip_device', {
    account_id: accountId,
    user_id: alice,
    auth_username: 'alice',
    password: PASSWORD,
  });
  const ids: { trunk_id: string }[] = [];
  for (const [i, trunk] of trunks.entries()) {
    const id = await create(store, 'sip_trunk', {
      account_id: accountId,
      name: `test carrier ${i + 1}`,
      proxy_host: trunk.host,
      proxy_port: trunk.port,
      ...(trunk.maxChannels === undefined ? {} : { max_channels: trunk.maxChannels }),
      custom_headers_json: { 'X-Switchboard-Test': 'b2bua' },
    });
    ids.push({ trunk_id: id });
  }
  await create(store, 'outbound_route', {
    account_id: accountId,
    name: 'test',
    prefix: TRUNK_PREFIX,
    trunks: ids,
  });
}

export async function startB2buaEdge(o: B2buaEdgeOptions): Promise<B2buaEdge> {
  const ts = openTestStore();
  await provision(ts, o.trunks);
  const store = ts.store;
  const brain = new LocalBrain({
    directory: store.directory,
    recorder: new CallRecorder(store.records, ts.clock),
  });
  const log = silentLogger;
  const transport = new TransportLayer({ logger: log });
  await transport.listen({ protocol: 'udp', address: o.address, port: 0 });
  const transactions = new TransactionLayer({ transport, logger: log });
  transport.onMessage((m) => transactions.receive(m));
  const relay = RtpRelay.create({
    ports: o.rtpPorts,
    addresses: [o.address],
    portMode: 'auto',
    kernel: false,
  });
  const sessions: MediaRelaySession[] = [];
  const calls = new EdgeCalls({ brain, logger: log });
  const dispatcher = new TrunkDispatcher({ transactions, logger: log });
  const gateway = new B2buaGateway({
    trunks: dispatcher,
    transport,
    transactions,
    brain,
    calls,
    relay: recording(new NativeMediaRelay(relay), sessions),
    secrets: store.secrets,
    contactHost: o.address,
    logger: log,
  });
  const registrar = new Registrar({
    location: new MemoryLocationService(),
    authenticator: new BrainRegistrarAuthenticator(
      new BrainDigest({ brain, mode: 'www', algorithms: DIGEST }),
    ),
    logger: log,
  });
  const digest = new BrainDigest({ brain, mode: 'proxy', algorithms: DIGEST });
  const route: RouteFunction = async (request, ctx): Promise<ProxyDecision> => {
    if (ctx.inDialog)
      return { action: 'forward', targets: [[{ uri: request.uri }]], recordRoute: false };
    const uri = request.requestUri;
    if (!isSipUri(uri) || uri.user === undefined) return { action: 'reject', status: 404 };
    const auth = await digest.verify(request);
    if (!auth.ok) return { action: 'respond', response: auth.response };
    const caller = { accountId: auth.accountId, userId: auth.userId, deviceId: auth.deviceId };
    const from = /^sips?:(?:([^@;>]*)@)?([^;:>?]+)/i.exec(request.from.uri);
    const decision = await brain.route({
      callId: request.callId,
      to: { user: uri.user, host: uri.host },
      from: { user: from?.[1] ?? '', host: (from?.[2] ?? '').toLowerCase() },
      caller,
    });
    const d = decision.directive;
    if (d.kind === 'outbound') {
      // What EdgeRouter does before its switch: the call is tracked from routing on.
      if (request.method === 'INVITE')
        calls.begin(request.callId, request.fromTag, decision.accountId);
      return gateway.delegate(decision, caller);
    }
    return { action: 'reject', status: d.kind === 'reject' ? d.status : 501 };
  };
  const proxy = new SipProxy({ transactions, transport, route, routeInDialog: true, logger: log });
  const edgeUser: TransactionUser = {
    onRequest: (tx, incoming) => {
      if (tx.request.method !== 'REGISTER') return proxy.onRequest(tx, incoming);
      registrar.handle(tx.request, incoming.flow).then(
        (response) => tx.respond(response),
        () => undefined,
      );
    },
    onStrayAck: (incoming) => proxy.onStrayAck(incoming),
    onStrayResponse: (incoming) => proxy.onStrayResponse(incoming),
    onServerTransactionError: (err, tx) => proxy.onServerTransactionError(err, tx),
  };
  transactions.setUser(gateway.dispatcher(edgeUser));
  registrar.start();
  const lp = transport.listeningPoints()[0];
  if (lp === undefined) throw new Error('edge has no listening point');
  return {
    sipPort: lp.local.port,
    store: ts,
    brain,
    gateway,
    calls,
    dispatcher,
    relay,
    sessions,
    async close() {
      dispatcher.stop();
      await gateway.close();
      registrar.close();
      transactions.dispose();
      await transport.close();
      await calls.endAll('shutdown');
      relay.close();
      await ts.close();
    },
  };
}
