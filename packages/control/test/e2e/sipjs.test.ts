/** A sip.js (npm) user agent in Node over WebSocket calls a SIPp user on UDP through the edge. */
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
import { DOMAIN, closedCdr, startE2eServer } from './support/e2e-server.js';
import { countOf } from './support/sipp.js';
import { registeredCallee, sippPassed } from './support/sipp-peers.js';

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

t.test('sip.js over WebSocket calls a registered SIPp user on UDP: 407, 200, BYE', async (t) => {
  const fx = await startE2eServer({ flags: { '--sip-ws-port': '0' } });
  t.teardown(() => fx.close());
  const wsPort = fx.ports.ws;
  if (wsPort === undefined) throw new Error('no WebSocket listener');
  const uas = await registeredCallee(t, {
    registrar: `127.0.0.1:${fx.ports.udp}`,
    user: '1002',
    password: fx.passwords['1002'] ?? '',
    scenario: 'uas-answer.xml',
  });
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
  const target = UserAgent.makeURI(`sip:1002@${DOMAIN}`);
  if (target === undefined) throw new Error('bad target URI');
  const inviter = new Inviter(ua, target);
  const established = reached(inviter, SessionState.Established);
  await inviter.invite();
  t.ok(await established, 'the sip.js session was established (sip.js answered the 407 itself)');
  t.match(answers[0] ?? '', /m=audio \d+ RTP\/AVP 0/, 'sip.js got the answer SDP');
  const ended = reached(inviter, SessionState.Terminated);
  await inviter.bye();
  t.ok(await ended, 'the sip.js session ended after BYE');
  const callee = await uas.done;
  sippPassed(t, callee, 'SIPp callee');
  t.equal(countOf(callee, 'received', 'INVITE'), 1, 'the SIPp user got the call on UDP');
  t.notMatch(
    callee.messages,
    /Proxy-Authorization/i,
    'the credentials of sip.js stayed at the edge',
  );
  t.equal(countOf(callee, 'received', 'BYE'), 1, 'and the BYE from sip.js');
  const callId = /^Call-ID: (\S+)/m.exec(callee.messages)?.[1] ?? '';
  t.equal((await closedCdr(fx, callId))?.disposition, 'answered', 'the CDR says answered');
});
