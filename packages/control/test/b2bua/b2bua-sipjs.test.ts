/**
 * sip.js (npm) in Node over WebSocket dials a number routed `outbound` to a trunk whose host is a
 * SIPp UAS on UDP: the call runs on the B2BUA, across transports, with media anchored.
 */
import t from 'tap';
import { WebSocket } from 'ws';
import {
  Inviter,
  SessionState,
  UserAgent,
  type BodyAndContentType,
  type Session,
  type SessionDescriptionHandler,
} from 'sip.js';
import type { Call } from '@switchboard/b2bua';
import { DOMAIN, closedCdr, startE2eServer } from '../e2e/support/e2e-server.js';
import { freePort } from '../e2e/support/free-port.js';
import { countOf } from '../e2e/support/sipp.js';
import { sippPassed, startCallee } from '../e2e/support/sipp-peers.js';
import { portRange } from './support/call-scene.js';

const NUMBER = '15559876543';
const SDP =
  'v=0\r\no=sipjs 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';

/** sip.js without WebRTC: offers a fixed SDP and keeps the answer. */
class FixedSdp implements SessionDescriptionHandler {
  constructor(readonly received: string[]) {}
  close(): void {
    // no media
  }
  getDescription(): Promise<BodyAndContentType> {
    return Promise.resolve({ body: SDP, contentType: 'application/sdp' });
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  setDescription(sdp: string): Promise<void> {
    this.received.push(sdp);
    return Promise.resolve();
  }
  sendDtmf(): boolean {
    return false;
  }
}

function reached(session: Session, state: SessionState, limitMs = 10_000): Promise<boolean> {
  if (session.state === state) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), limitMs);
    session.stateChange.addListener((s) => {
      if (s !== state) return;
      clearTimeout(timer);
      resolve(true);
    });
  });
}

// sip.js opens its connection with the WebSocket global, which Node 20 lacks: lend it the ws one.
const globals = globalThis as { WebSocket?: unknown };
const previous = globals.WebSocket;
globals.WebSocket = WebSocket;
t.teardown(() => {
  globals.WebSocket = previous;
});

t.test(
  'sip.js over WebSocket calls a SIPp trunk on UDP through the B2BUA: answered with relay SDP, the trunk sees none of the WebSocket side, BYE ends both legs',
  async (t) => {
    const rtp = portRange(200);
    const fx = await startE2eServer({
      flags: { '--sip-ws-port': '0', '--rtp-min': String(rtp.min), '--rtp-max': String(rtp.max) },
    });
    t.teardown(() => fx.close());
    const wsPort = fx.ports.ws;
    if (wsPort === undefined) throw new Error('no WebSocket listener');
    const trunkPort = await freePort();
    const store = fx.server.store;
    const trunk = await store.table('sip_trunk').create({
      account_id: fx.accountId,
      name: 'sipp trunk',
      proxy_host: '127.0.0.1',
      proxy_port: trunkPort,
      transport: 'udp',
    });
    if (!trunk.ok) throw new Error(trunk.error.message);
    const route = await store.table('outbound_route').create({
      account_id: fx.accountId,
      name: 'to sipp',
      prefix: '1555',
      trunks: [{ trunk_id: String(trunk.value.row['id']) }],
    });
    if (!route.ok) throw new Error(route.error.message);
    const calls: Call[] = [];
    fx.node.gateway?.b2bua.on('call', (c) => calls.push(c));
    const uas = await startCallee(t, { scenario: 'uas-answer.xml', port: trunkPort });

    const answers: string[] = [];
    const uri = UserAgent.makeURI(`sip:1001@${DOMAIN}`);
    if (uri === undefined) throw new Error('bad URI');
    const ua = new UserAgent({
      uri,
      transportOptions: { server: `ws://127.0.0.1:${wsPort}` },
      authorizationUsername: '1001',
      authorizationPassword: fx.passwords['1001'] ?? '',
      sessionDescriptionHandlerFactory: () => new FixedSdp(answers),
      logBuiltinEnabled: false,
      logConfiguration: false,
    });
    await ua.start();
    t.teardown(() => ua.stop());
    const target = UserAgent.makeURI(`sip:${NUMBER}@${DOMAIN}`);
    if (target === undefined) throw new Error('bad target URI');
    const inviter = new Inviter(ua, target);
    const established = reached(inviter, SessionState.Established);
    await inviter.invite();
    t.ok(await established, 'the sip.js session was established (sip.js answered the 407)');
    t.equal(calls.length, 1, 'the call ran on the B2BUA');
    const port = Number(/m=audio (\d+)/.exec(answers[0] ?? '')?.[1] ?? 0);
    t.ok(port >= rtp.min && port <= rtp.max, `sip.js got relay SDP (port ${port})`);
    t.equal(fx.server.edge?.relay?.info().sessions, 1, 'one relay session anchors the media');
    const ended = reached(inviter, SessionState.Terminated);
    await inviter.bye();
    t.ok(await ended, 'the sip.js session ended after BYE');

    const trunkSide = await uas.done;
    sippPassed(t, trunkSide, 'SIPp trunk');
    t.equal(countOf(trunkSide, 'received', 'INVITE'), 1, 'the trunk got the call on UDP');
    t.equal(countOf(trunkSide, 'received', 'BYE'), 1, 'and the BYE');
    const wsCallId = inviter.request.callId;
    t.notOk(trunkSide.messages.includes(wsCallId), 'the trunk never saw the sip.js Call-ID');
    t.notMatch(trunkSide.messages, /\.invalid/, 'nor its WebSocket Via or Contact host');
    t.notMatch(trunkSide.messages, /Proxy-Authorization/i, 'nor its credentials');
    t.match(trunkSide.messages, /^Via: SIP\/2\.0\/UDP /m, 'the trunk leg is plain UDP');
    t.equal((await closedCdr(fx, wsCallId))?.disposition, 'answered', 'the CDR says answered');
    t.equal(fx.server.edge?.relay?.info().sessions, 0, 'no relay session left');
    t.equal(fx.node.calls.size, 0, 'no call left on the edge');
  },
);
