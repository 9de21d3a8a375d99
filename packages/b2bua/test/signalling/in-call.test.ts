import t from 'tap';
import { parse } from 'sdp-transform';
import type { IncomingRequest } from '@switchboard/sip-stack';
import { nextEvent, settle } from '../support/call-harness.js';
import { connectedCall } from '../support/connected-call.js';
import { ANSWER_B, audioSdp } from '../support/sdp-samples.js';

const SDP = 'application/sdp';

t.test(
  'hold and resume from A: sendonly reaches B through the relay, the answer comes back',
  async (t) => {
    const c = await connectedCall(t);
    const seen: string[] = [];
    c.bDialog.onRequest('INVITE', (req) => {
      const dir = parse(req.request.body.toString()).media[0]?.direction ?? 'sendrecv';
      seen.push(dir);
      const answerDir = dir === 'sendonly' ? 'recvonly' : 'sendrecv';
      req.accept({
        body: audioSdp({
          address: '198.51.100.2',
          port: 5000,
          formats: '0 101',
          direction: answerDir,
          version: seen.length + 1,
        }),
        contentType: SDP,
      });
    });
    const renegotiated = nextEvent(c.call, 'renegotiated');
    const hold = await c.aDialog.reinvite({
      body: audioSdp({ direction: 'sendonly', version: 2 }),
      contentType: SDP,
    });
    t.equal(hold.status, 200);
    t.same(await renegotiated, ['a']);
    const toA = parse(hold.body.toString());
    t.equal(toA.media[0]?.direction, 'recvonly');
    t.equal(toA.connection?.ip, c.h.relay.address);
    const resume = await c.aDialog.reinvite({ body: audioSdp({ version: 3 }), contentType: SDP });
    t.equal(resume.status, 200);
    t.same(seen, ['sendonly', 'sendrecv']);
    t.equal(c.h.relay.sessions.length, 1, 'the same relay session throughout');
  },
);

t.test('legacy hold from B (c=0.0.0.0) reaches A as sendonly with the relay address', async (t) => {
  const c = await connectedCall(t);
  let toA = '';
  c.aDialog.onRequest('INVITE', (req) => {
    toA = req.request.body.toString();
    req.accept({ body: audioSdp({ direction: 'recvonly', version: 2 }), contentType: SDP });
  });
  const before = c.h.relay.remotesOf('b').length;
  const res = await c.bDialog.reinvite({
    body: audioSdp({ address: '0.0.0.0', port: 5000, formats: '0 101', version: 2, user: 'bob' }),
    contentType: SDP,
  });
  t.equal(res.status, 200);
  const sdp = parse(toA);
  t.equal(sdp.media[0]?.direction, 'sendonly');
  t.equal(sdp.connection?.ip, c.h.relay.address);
  t.notOk(toA.includes('0.0.0.0'));
  t.equal(c.h.relay.remotesOf('b').length, before, 'the relay is not pointed at 0.0.0.0');
});

t.test(
  'UPDATE from A goes to B as re-INVITE when B does not allow UPDATE (RFC 3311)',
  async (t) => {
    const c = await connectedCall(t);
    const methods: string[] = [];
    c.bDialog.on('request', (req) => methods.push(req.method));
    const res = await c.aDialog.request('UPDATE', {
      body: audioSdp({ port: 4100, version: 2 }),
      contentType: SDP,
    });
    t.equal(res.status, 200);
    t.ok(parse(res.body.toString()).media[0]?.port, 'the answer is in the 200 to UPDATE');
    t.same(methods, ['INVITE']);
    t.same(c.h.relay.remotesOf('a').at(-1), { address: '192.0.2.1', rtpPort: 4100 });
  },
);

t.test('UPDATE from A reaches B as UPDATE when B allows it', async (t) => {
  const c = await connectedCall(t, {
    answerHeaders: { Allow: 'INVITE, ACK, BYE, CANCEL, UPDATE' },
  });
  const methods: string[] = [];
  c.bDialog.onRequest('UPDATE', (req: IncomingRequest) => {
    methods.push(req.method);
    req.respond(200, {
      body: audioSdp({ address: '198.51.100.2', port: 5002, formats: '0', version: 2 }),
      contentType: SDP,
    });
  });
  const res = await c.aDialog.request('UPDATE', {
    body: audioSdp({ port: 4100, version: 2 }),
    contentType: SDP,
  });
  t.equal(res.status, 200);
  t.same(methods, ['UPDATE']);
  t.same(c.h.relay.remotesOf('b').at(-1), { address: '198.51.100.2', rtpPort: 5002 });
});

t.test('an unchanged re-INVITE is a refresh answered by the B2BUA alone', async (t) => {
  const c = await connectedCall(t);
  let bRequests = 0;
  c.bDialog.on('request', () => bRequests++);
  const res = await c.aDialog.reinvite({ body: c.aDialog.localBody ?? '', contentType: SDP });
  t.equal(res.status, 200);
  t.equal(res.body.toString(), c.answerToA, 'same answer, same version');
  await settle();
  t.equal(bRequests, 0);
});

t.test('an offerless re-INVITE gets our last offer in the 2xx; B is not involved', async (t) => {
  const c = await connectedCall(t);
  let bRequests = 0;
  c.bDialog.on('request', () => bRequests++);
  const res = await c.aDialog.reinvite({});
  t.equal(res.status, 200);
  t.equal(
    parse(res.body.toString()).origin?.sessionVersion,
    parse(c.answerToA).origin?.sessionVersion,
  );
  await settle();
  t.equal(bRequests, 0);
  t.equal(c.call.media.pendingFrom, undefined, 'the empty ACK left no offer open');
});

t.test(
  'a re-INVITE the far side refuses (488) is refused to the offerer and rolled back',
  async (t) => {
    const c = await connectedCall(t);
    c.bDialog.onRequest('INVITE', (req) => {
      req.reject(488);
    });
    const res = await c.aDialog.reinvite({
      body: audioSdp({ address: '192.0.2.50', port: 4200, version: 2 }),
      contentType: SDP,
    });
    t.equal(res.status, 488);
    t.same(
      c.h.relay.remotesOf('a').at(-1),
      { address: '192.0.2.1', rtpPort: 4000 },
      'old remote restored',
    );
    t.equal(c.call.media.pendingFrom, undefined);
  },
);

t.test(
  'glare: A and B re-INVITE at once; both get 491, then a retry succeeds (RFC 3261 §14.1)',
  async (t) => {
    const c = await connectedCall(t);
    const [fromA, fromB] = await Promise.all([
      c.aDialog.reinvite({ body: audioSdp({ port: 4300, version: 2 }), contentType: SDP }),
      c.bDialog.reinvite({
        body: audioSdp({
          address: '198.51.100.2',
          port: 5300,
          formats: '0 101',
          version: 2,
          user: 'bob',
        }),
        contentType: SDP,
      }),
    ]);
    t.same([fromA.status, fromB.status], [491, 491]);
    t.equal(c.call.media.pendingFrom, undefined, 'no offer left open');
    await settle();
    const retry = await c.aDialog.reinvite({
      body: audioSdp({ port: 4300, version: 2 }),
      contentType: SDP,
    });
    t.equal(retry.status, 200);
    t.same(c.h.relay.remotesOf('a').at(-1), { address: '192.0.2.1', rtpPort: 4300 });
  },
);

t.test('INFO from B reaches A and A’s status answers B', async (t) => {
  const c = await connectedCall(t);
  c.aDialog.onRequest('INFO', (req) => {
    req.respond(200);
  });
  const res = await c.bDialog.request('INFO', {
    body: 'Signal=#\r\nDuration=100\r\n',
    contentType: 'application/dtmf-relay',
  });
  t.equal(res.status, 200);
  const refused = await c.bDialog.request('MESSAGE', { body: 'hi', contentType: 'text/plain' });
  t.equal(refused.status, 405, "A's 405 (no MESSAGE handler) reaches B");
  void ANSWER_B;
});
