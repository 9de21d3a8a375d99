/**
 * Real phones through the real server (`startSwitchboard`): two baresip instances, each playing a
 * 1 kHz tone and recording what it hears, checked by Goertzel. Proxy path (user to user, media
 * anchored on the relay), B2BUA path (a number routed `outbound` to a trunk whose host is the
 * second baresip), and the B2BUA path with the phone behind a namespace NAT.
 */
import t, { type Test } from 'tap';
import type { Call, MediaRelaySession } from '@switchboard/b2bua';
import { DOMAIN, closedCdr, startE2eServer, type E2eServer } from '../e2e/support/e2e-server.js';
import { baresipAvailable, type Baresip } from './support/baresip.js';
import {
  TONE_HZ,
  TONE_SECONDS,
  audioFiles,
  heard,
  startBaresip,
  until,
} from './support/call-scene.js';
import { createNat } from './support/netns-nat.js';

const PREFIX = '1555';
const NUMBER = `${PREFIX}1234567`;
const skip = baresipAvailable() ? false : 'baresip is not installed';

interface PhoneSide {
  /** Address the phone binds. */
  address: string;
  netns?: string;
  ctrlPort?: number;
  /** Where the phone's packets appear from (its NAT's address). */
  publicAddress?: string;
}

async function startServer(t: Test, address: string): Promise<E2eServer> {
  const fx = await startE2eServer({
    flags: { '--sip-host': address, '--media-address': address },
  });
  t.teardown(() => fx.close());
  return fx;
}

/** A trunk to `host:port` and an outbound route for numbers starting with PREFIX over it. */
async function routeToTrunk(fx: E2eServer, host: string, port: number): Promise<void> {
  const store = fx.server.store;
  const trunk = await store.table('sip_trunk').create({
    account_id: fx.accountId,
    name: 'baresip carrier',
    proxy_host: host,
    proxy_port: port,
    transport: 'udp',
    max_channels: 2,
    custom_headers_json: { 'X-Switchboard-Test': 'b2bua' },
  });
  if (!trunk.ok) throw new Error(trunk.error.message);
  const route = await store.table('outbound_route').create({
    account_id: fx.accountId,
    name: 'to baresip',
    prefix: PREFIX,
    trunks: [{ trunk_id: String(trunk.value.row['id']) }],
  });
  if (!route.ok) throw new Error(route.error.message);
}

function account(user: string, fx: E2eServer, address: string, extra = ''): string {
  const password = fx.passwords[user] ?? '';
  return (
    `<sip:${user}@${DOMAIN}>;auth_pass=${password};` +
    `outbound="sip:${address}:${fx.ports.udp ?? 0}";regint=300${extra}`
  );
}

const reservations = async (fx: E2eServer): Promise<number> =>
  (await fx.server.brain.cacStatus(fx.accountId)).accounts[0]?.reservations ?? 0;

/** Both parties heard the other's tone for about as long as it played. */
function bothHeard(t: Test, caller: Baresip, callee: Baresip): void {
  const there = heard(callee);
  t.equal(there.dominantHz, TONE_HZ, 'the callee heard 1000 Hz');
  t.ok(there.toneSeconds >= TONE_SECONDS - 1, `tone lasted ${there.toneSeconds} s`);
  t.ok(there.toneSeconds <= TONE_SECONDS + 0.2, 'no more tone than was sent');
  const back = heard(caller);
  t.equal(back.dominantHz, TONE_HZ, 'the caller heard the callee too');
  t.ok(back.toneSeconds >= TONE_SECONDS - 1.5, `for ${back.toneSeconds} s`);
}

t.test(
  'proxy path: two registered baresip phones call each other; the call is proxied, media anchored on the relay, and each hears the other’s 1000 Hz tone',
  { skip },
  async (t) => {
    const fx = await startServer(t, '127.0.0.1');
    const relay = fx.server.edge?.relay;
    const files = audioFiles(t);
    const callee = await startBaresip(t, {
      address: '127.0.0.1',
      account: account('1002', fx, '127.0.0.1', ';answermode=auto'),
      source: files.tone,
    });
    const caller = await startBaresip(t, {
      address: '127.0.0.1',
      account: account('1001', fx, '127.0.0.1'),
      source: files.tone,
    });
    await Promise.all([caller.registered(), callee.registered()]);

    caller.dial(`sip:1002@${DOMAIN}`);
    await caller.waitEvent('CALL_ESTABLISHED');
    await callee.waitEvent('CALL_ESTABLISHED');
    t.equal(relay?.info().sessions, 1, 'one relay session anchors the call');
    t.equal(fx.node.gateway?.b2bua.stats().started ?? 0, 0, 'the B2BUA took no part');
    t.equal(fx.node.calls.size, 1, 'the edge tracks the call');
    await caller.waitEvent('CALL_CLOSED', 15_000);
    await callee.waitEvent('CALL_CLOSED', 10_000);
    await until(() => fx.node.calls.size === 0, 'call released');
    await Promise.all([caller.stop(), callee.stop()]);

    bothHeard(t, caller, callee);
    t.equal(relay?.info().sessions, 0, 'relay session released');
    t.equal(await reservations(fx), 0, 'admission released');
  },
);

/**
 * A baresip phone registers and dials a number the brain routes `outbound`; the trunk's host is
 * another baresip that answers. The phone hangs up when its tone ends.
 */
async function callThroughTrunk(t: Test, edgeAddress: string, side: PhoneSide): Promise<void> {
  const fx = await startServer(t, edgeAddress);
  const files = audioFiles(t);
  const carrier = await startBaresip(t, {
    address: edgeAddress,
    account: `<sip:${NUMBER}@${edgeAddress}>;regint=0;answermode=auto`,
    source: files.tone,
  });
  await routeToTrunk(fx, edgeAddress, carrier.options.sipPort);
  const gateway = fx.node.gateway;
  if (gateway === undefined) throw new Error('the edge runs without the B2BUA');
  const calls: Call[] = [];
  const sessions: MediaRelaySession[] = [];
  gateway.b2bua.on('call', (c) => {
    calls.push(c);
    c.once('answered', () => sessions.push(...c.media.sessions.flatMap((s) => s ?? [])));
  });
  const phone = await startBaresip(t, {
    address: side.address,
    ...(side.netns === undefined ? {} : { netns: side.netns }),
    ...(side.ctrlPort === undefined ? {} : { ctrlPort: side.ctrlPort }),
    account: account('1001', fx, edgeAddress),
    source: files.tone,
  });
  await phone.registered();

  phone.dial(`sip:${NUMBER}@${DOMAIN}`);
  await phone.waitEvent('CALL_ESTABLISHED');
  await carrier.waitEvent('CALL_ESTABLISHED');
  t.equal(calls.length, 1, 'the call ran on the B2BUA');
  t.equal(fx.node.calls.size, 1, 'tracked like a proxied call');
  t.equal(await reservations(fx), 1, 'admitted');
  // The tone ends after 3 s: the phone hangs up (BYE), the B2BUA hangs up the trunk leg.
  await phone.waitEvent('CALL_CLOSED', 15_000);
  await carrier.waitEvent('CALL_CLOSED', 10_000);
  await until(() => fx.node.calls.size === 0, 'call released');
  // sndfile completes its WAV files when the process ends.
  await Promise.all([phone.stop(), carrier.stop()]);

  bothHeard(t, phone, carrier);
  if (side.publicAddress !== undefined)
    t.equal(
      calls[0]?.caller.flow.remote.address,
      side.publicAddress,
      'the INVITE came through the NAT',
    );
  t.equal(sessions.length, 1, 'one relay session for the one audio stream');
  const stats = sessions[0]?.stats();
  const frames = (TONE_SECONDS - 1) * 50;
  t.ok((stats?.a.packetsIn ?? 0) >= frames, `relay got ${stats?.a.packetsIn} from the phone`);
  t.ok((stats?.b.packetsOut ?? 0) >= frames, `relay sent ${stats?.b.packetsOut} to the trunk`);
  t.equal(fx.server.edge?.relay?.info().sessions, 0, 'no relay session left');
  t.equal(await reservations(fx), 0, 'admission released');
  const cdr = await closedCdr(fx, calls[0]?.caller.request.callId ?? '');
  t.equal(cdr?.disposition, 'answered', 'CDR completed as answered');
}

t.test(
  "B2BUA path: a registered baresip calls a number routed to a trunk (another baresip); each hears the other party's 1000 Hz tone through the native relay",
  { skip },
  async (t) => callThroughTrunk(t, '127.0.0.1', { address: '127.0.0.1' }),
);

t.test(
  'B2BUA behind NAT: the phone in a namespace behind a masquerading router; media latches on its public address',
  { skip },
  async (t) => {
    const ctrlPort = 4444;
    const why: { reason?: string } = {};
    const nat = createNat(ctrlPort, why);
    if (nat === undefined) {
      t.comment(`skipped: ${why.reason ?? 'no NAT'}`);
      t.pass('NAT variant not run here');
      return;
    }
    t.teardown(() => nat.close());
    await callThroughTrunk(t, nat.hostAddress, {
      address: nat.clientAddress,
      netns: nat.clientNs,
      ctrlPort,
      publicAddress: nat.publicAddress,
    });
  },
);
