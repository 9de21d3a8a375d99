import t, { type Test as TapTest } from 'tap';
import type { Call } from '@switchboard/b2bua';
import { baresipAvailable } from './support/baresip.js';
import { DOMAIN, PASSWORD, TRUNK_PREFIX, startB2buaEdge } from './support/b2bua-edge.js';
import {
  TONE_HZ,
  TONE_SECONDS,
  audioFiles,
  heard,
  portRange,
  startBaresip,
  until,
} from './support/call-scene.js';
import { createNat } from './support/netns-nat.js';

type Test = TapTest;

const NUMBER = `${TRUNK_PREFIX}1234567`;
const skip = baresipAvailable() ? false : 'baresip is not installed';

interface PhoneSide {
  /** Address the phone binds. */
  address: string;
  netns?: string;
  ctrlPort?: number;
  /** Where the phone's packets appear from (its NAT's address). */
  publicAddress?: string;
}

/**
 * A baresip phone registers and dials a number the brain routes `outbound`; the trunk's host is
 * another baresip that answers. The phone plays the tone and hangs up when it ends; the checks
 * are on what the carrier recorded, the relay's counters, admission and the CDR.
 */
async function callThroughTrunk(t: Test, edgeAddress: string, side: PhoneSide): Promise<void> {
  const files = audioFiles(t); // both parties play the tone; each records what it hears
  const carrier = await startBaresip(t, {
    address: edgeAddress,
    account: `<sip:${NUMBER}@${edgeAddress}>;regint=0;answermode=auto`,
    source: files.tone,
  });
  const edge = await startB2buaEdge({
    address: edgeAddress,
    trunk: { host: edgeAddress, port: carrier.options.sipPort, maxChannels: 2 },
    rtpPorts: portRange(100),
  });
  t.teardown(() => edge.close());
  const calls: Call[] = [];
  edge.gateway.b2bua.on('call', (c) => calls.push(c));
  const phone = await startBaresip(t, {
    address: side.address,
    ...(side.netns === undefined ? {} : { netns: side.netns }),
    ...(side.ctrlPort === undefined ? {} : { ctrlPort: side.ctrlPort }),
    account:
      `<sip:alice@${DOMAIN}>;auth_pass=${PASSWORD};` +
      `outbound="sip:${edgeAddress}:${edge.sipPort}";regint=300`,
    source: files.tone,
  });
  await phone.registered();

  phone.dial(`sip:${NUMBER}@${DOMAIN}`);
  await phone.waitEvent('CALL_ESTABLISHED');
  await carrier.waitEvent('CALL_ESTABLISHED');
  t.equal(calls.length, 1, 'the call ran on the B2BUA');
  t.equal(edge.calls.size, 1, 'tracked like a proxied call');
  const cac = await edge.brain.cacStatus();
  t.equal(cac.accounts[0]?.reservations, 1, 'admitted');
  // The tone ends after 3 s: the phone hangs up (BYE), the B2BUA hangs up the trunk leg.
  await phone.waitEvent('CALL_CLOSED', 15_000);
  await carrier.waitEvent('CALL_CLOSED', 10_000);
  await until(() => edge.calls.size === 0, 'call released');
  // sndfile completes its WAV files when the process ends.
  await Promise.all([phone.stop(), carrier.stop()]);

  const report = heard(carrier);
  t.equal(report.dominantHz, TONE_HZ, 'the carrier heard 1000 Hz');
  t.ok(report.toneSeconds >= TONE_SECONDS - 1, `tone lasted ${report.toneSeconds} s`);
  t.ok(report.toneSeconds <= TONE_SECONDS + 0.2, 'no more tone than was sent');

  // Back toward the phone (behind a NAT: only once the relay latched on its public address).
  const back = heard(phone);
  t.equal(back.dominantHz, TONE_HZ, 'the phone heard the carrier too');
  t.ok(back.toneSeconds >= TONE_SECONDS - 1.5, `for ${back.toneSeconds} s`);
  if (side.publicAddress !== undefined)
    t.equal(
      calls[0]?.caller.flow.remote.address,
      side.publicAddress,
      'the INVITE came through the NAT',
    );

  t.equal(edge.sessions.length, 1, 'one relay session for the one audio stream');
  const session = edge.sessions[0];
  t.ok(session?.closed, 'relay session closed with the call');
  const stats = session?.stats();
  const frames = (TONE_SECONDS - 1) * 50;
  t.ok(
    (stats?.a.packetsIn ?? 0) >= frames,
    `relay got ${stats?.a.packetsIn} packets from the phone`,
  );
  t.ok((stats?.b.packetsOut ?? 0) >= frames, `relay sent ${stats?.b.packetsOut} to the trunk`);
  t.equal(edge.relay.info().sessions, 0, 'no relay session left');
  t.equal((await edge.brain.cacStatus()).accounts[0]?.reservations ?? 0, 0, 'admission released');
  const callId = calls[0]?.caller.request.callId ?? '';
  const cdr = await edge.store.store.records.cdrByCallId(callId);
  t.equal(cdr?.disposition, 'answered', 'CDR completed as answered');
}

t.test(
  "B2BUA: a registered baresip calls a number routed to a trunk (another baresip); each hears the other party's 1000 Hz tone through the native relay",
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
