/**
 * Interop with code nobody here wrote: a sip.js 0.21 user agent in Node over WebSocket registers
 * with digest against a small server built from this package, calls it, and is called by it.
 */
import t from 'tap';
import { WebSocket } from 'ws';
import {
  Inviter,
  Registerer,
  RegistererState,
  SessionState,
  UserAgent,
  type Invitation,
  type Session,
  type URI,
} from 'sip.js';
import { createEndpoint, type DialogSession, type IncomingRequest } from '../../src/index.js';
import { nextEvent } from '../support/endpoint-harness.js';
import { MemoryRegistrar } from '../support/memory-registrar.js';
import { fixedSdpFactory } from '../support/sipjs-fixed-sdp.js';

const SIPJS_SDP =
  'v=0\r\no=sipjs 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n';
const SERVER_SDP =
  'v=0\r\no=switchboard 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 50000 RTP/AVP 0\r\n';

// sip.js opens its connection with the WebSocket global, which Node 20 lacks: lend it the ws one.
const globals = globalThis as { WebSocket?: unknown };
const previousWebSocket = globals.WebSocket;
globals.WebSocket = WebSocket;
t.teardown(() => {
  globals.WebSocket = previousWebSocket;
});

function sipUri(text: string): URI {
  const uri = UserAgent.makeURI(text);
  if (uri === undefined) throw new Error(`bad URI ${text}`);
  return uri;
}

function waitForState(session: Session, state: SessionState, deadlineMs = 5000): Promise<void> {
  if (session.state === state) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`session never reached ${state}`)), deadlineMs);
    const listener = (s: SessionState): void => {
      if (s !== state) return;
      clearTimeout(timer);
      session.stateChange.removeListener(listener);
      resolve();
    };
    session.stateChange.addListener(listener);
  });
}

t.test(
  'sip.js over WebSocket: REGISTER with MD5 digest, calls in both directions, ACK and BYE',
  async (t) => {
    const server = await createEndpoint({
      listen: [{ protocol: 'ws', address: '127.0.0.1', port: 0 }],
      userAgent: 'switchboard-interop-test',
    });
    t.teardown(() => server.close());
    const port = server.listeningPoints()[0]!.local.port;
    // sip.js 0.21 answers MD5 only and keeps the last WWW-Authenticate: offer MD5 alone.
    const registrar = new MemoryRegistrar(server, {
      realm: 'example.test',
      users: { alice: 'alice-pw' },
      algorithms: ['MD5'],
    });

    const answered: { dialog: DialogSession; request: IncomingRequest }[] = [];
    server.onRequest('INVITE', (req) => {
      answered.push({
        request: req,
        dialog: req.accept({ body: SERVER_SDP, contentType: 'application/sdp' }),
      });
    });

    const sipjsReceivedSdp: string[] = [];
    const incomingCalls: Invitation[] = [];
    const ua = new UserAgent({
      uri: sipUri('sip:alice@example.test'),
      transportOptions: { server: `ws://127.0.0.1:${port}` },
      authorizationUsername: 'alice',
      authorizationPassword: 'alice-pw',
      sessionDescriptionHandlerFactory: fixedSdpFactory(SIPJS_SDP, sipjsReceivedSdp),
      logBuiltinEnabled: false,
      logConfiguration: false,
      delegate: { onInvite: (invitation) => void incomingCalls.push(invitation) },
    });
    await ua.start();
    t.teardown(() => ua.stop());

    // --- REGISTER with digest -------------------------------------------------------------------
    const registerer = new Registerer(ua, { expires: 600 });
    const registered = new Promise<void>((resolve) => {
      registerer.stateChange.addListener((s) => {
        if (s === RegistererState.Registered) resolve();
      });
    });
    let registerStatus = 0;
    let registerContact = '';
    await registerer.register({
      requestDelegate: {
        onAccept: (response) => {
          registerStatus = response.message.statusCode ?? 0;
          registerContact = response.message.getHeader('contact') ?? '';
        },
      },
    });
    await registered;
    t.equal(registerStatus, 200, 'REGISTER 200');
    t.equal(registrar.challenges, 1, 'the first REGISTER was challenged 401');
    const authorization = registrar.seen[1]?.request.headers.get('Authorization') ?? '';
    t.match(authorization, /algorithm=MD5/i, 'sip.js answered with MD5');
    const binding = registrar.lookup('sip:alice@example.test');
    t.ok(binding, 'a binding for alice');
    t.equal(binding?.flow.protocol, 'ws', 'bound to the WebSocket flow');
    t.match(registerContact, binding?.contact ?? '<none>', 'the 200 lists the registered Contact');
    t.match(registerContact, /expires=600/);

    // --- sip.js calls our UAS -------------------------------------------------------------------
    const inviter = new Inviter(ua, sipUri('sip:bob@example.test'));
    const established = waitForState(inviter, SessionState.Established);
    const dialogCreated = nextEvent(server, 'dialog');
    await inviter.invite();
    const [uas] = await dialogCreated;
    const acked = nextEvent(uas, 'ack');
    await established;
    const [ack] = await acked;
    t.equal(ack.method, 'ACK', 'ACK from sip.js reached our dialog');
    t.equal(answered.length, 1);
    t.equal(uas.remoteBody?.toString(), SIPJS_SDP, 'we got the sip.js offer');
    t.same(sipjsReceivedSdp, [SERVER_SDP], 'sip.js got our answer');

    const byeSeen = nextEvent(uas, 'bye');
    const byeAnswered = new Promise<number>((resolve) => {
      void inviter.bye({
        requestDelegate: { onAccept: (r) => resolve(r.message.statusCode ?? 0) },
      });
    });
    await byeSeen;
    t.equal(await byeAnswered, 200, 'BYE from sip.js answered 200');
    await waitForState(inviter, SessionState.Terminated);
    t.equal(await uas.terminated, 'remote-bye');

    // --- our endpoint calls the registered sip.js UA over its flow ---------------------------------
    const sipjsAcked = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        const call = incomingCalls[0];
        if (call === undefined) return;
        clearInterval(check);
        call.delegate = { onAck: () => resolve() };
        void call.accept();
      }, 2);
      t.teardown(() => clearInterval(check));
    });
    const { dialog, response } = await server.invite({
      uri: binding!.contact,
      from: '<sip:bob@example.test>',
      to: '<sip:alice@example.test>',
      target: MemoryRegistrar.targetFor(binding!),
      body: SERVER_SDP,
      contentType: 'application/sdp',
    });
    t.equal(response.status, 200, 'sip.js answered 200');
    t.equal(response.body.toString(), SIPJS_SDP, 'with its SDP');
    await sipjsAcked;
    t.pass('sip.js received our ACK');
    const call = incomingCalls[0]!;
    const sipjsBye = new Promise<void>((resolve) => {
      // With an onBye delegate sip.js leaves the answer to us.
      call.delegate = {
        onBye: (bye) => {
          void bye.accept();
          resolve();
        },
      };
    });
    const bye = await dialog.bye();
    await sipjsBye;
    t.equal(bye.status, 200, 'our BYE answered 200 by sip.js');
    await waitForState(call, SessionState.Terminated);
    t.equal(await dialog.terminated, 'local-bye');

    // --- unregister -----------------------------------------------------------------------------
    await registerer.unregister();
    await new Promise<void>((resolve) => {
      if (registerer.state === RegistererState.Unregistered) resolve();
      else
        registerer.stateChange.addListener((s) => s === RegistererState.Unregistered && resolve());
    });
    t.equal(registrar.lookup('sip:alice@example.test'), undefined, 'binding removed');
  },
);
