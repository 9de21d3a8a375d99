import t from 'tap';
import type { DialogSession } from '../../src/endpoint/dialog-session.js';
import { EndpointError } from '../../src/endpoint/endpoint-error.js';
import type { IncomingRequest } from '../../src/endpoint/incoming-request.js';
import type { SipEndpoint } from '../../src/endpoint/sip-endpoint.js';
import { endpointPair, nextEvent, until, uriOf } from '../support/endpoint-harness.js';

const OFFER =
  'v=0\r\no=a 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
const ANSWER =
  'v=0\r\no=b 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n';

/** b rings once, then answers with ANSWER; resolves with b's dialog once the ACK came. */
function answerAfterRinging(
  b: SipEndpoint,
): Promise<{ dialog: DialogSession; request: IncomingRequest }> {
  return new Promise((resolve) => {
    b.onRequest('INVITE', (req) => {
      req.progress(180);
      setTimeout(() => {
        const dialog = req.accept({ body: ANSWER, contentType: 'application/sdp' });
        dialog.once('ack', () => resolve({ dialog, request: req }));
      }, 10);
    });
  });
}

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(
    `${protocol}: INVITE → 180 → 200 → ACK, then the caller hangs up with BYE → 200`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const answered = answerAfterRinging(b);
      const provisional: number[] = [];
      const call = a.invite({
        uri: uriOf(b, 'bob'),
        from: `<${uriOf(a, 'alice')}>`,
        body: OFFER,
        contentType: 'application/sdp',
        onProvisional: (r) => provisional.push(r.status),
      });
      const early = nextEvent(call, 'early');
      const { dialog, response } = await call;
      const [earlyDialog] = await early;
      t.equal(earlyDialog, dialog, 'the early dialog of the 180 is the one the 200 confirmed');
      t.same(provisional, [180]);
      t.equal(response.status, 200);
      t.equal(dialog.state, 'confirmed');
      t.equal(dialog.role, 'uac');
      t.equal(dialog.remoteBody?.toString(), ANSWER);
      t.equal(dialog.localBody?.toString(), OFFER);
      const { dialog: callee } = await answered;
      t.equal(callee.role, 'uas');
      t.equal(callee.remoteBody?.toString(), OFFER);
      t.equal(callee.callId, dialog.callId);

      const bye = nextEvent(callee, 'bye');
      const calleeEnded = callee.terminated;
      const res = await dialog.bye();
      t.equal(res.status, 200);
      const [byeReq] = await bye;
      t.equal(byeReq.method, 'BYE');
      t.equal(await calleeEnded, 'remote-bye');
      t.equal(await dialog.terminated, 'local-bye');
      t.equal(a.sessions.length, 0, 'caller store is empty');
      t.equal(b.sessions.length, 0, 'callee store is empty');
      await t.rejects(dialog.request('INFO'), { code: 'SIP_ERR_ENDPOINT_STATE' });
    },
  );

  t.test(`${protocol}: the callee hangs up with BYE → 200`, async (t) => {
    const { a, b } = await endpointPair(t, protocol);
    const answered = answerAfterRinging(b);
    const { dialog } = await a.invite({
      uri: uriOf(b, 'bob'),
      body: OFFER,
      contentType: 'application/sdp',
    });
    const { dialog: callee } = await answered;
    const callerBye = nextEvent(dialog, 'bye');
    const res = await callee.bye();
    t.equal(res.status, 200);
    await callerBye;
    t.equal(await dialog.terminated, 'remote-bye');
    t.equal(await callee.terminated, 'local-bye');
  });

  t.test(
    `${protocol}: a rejected INVITE rejects with SIP_ERR_REJECTED and the status (486)`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      b.onRequest('INVITE', (req) => void req.reject(486));
      const err = await a.invite({ uri: uriOf(b, 'bob') }).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(err instanceof EndpointError);
      t.equal((err as EndpointError).code, 'SIP_ERR_REJECTED');
      t.equal((err as EndpointError).status, 486);
      t.equal((err as EndpointError).response?.status, 486);
    },
  );

  t.test(
    `${protocol}: cancel() while ringing → CANCEL 200, INVITE 487, cancel events on the UAS`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const ringing = new Promise<IncomingRequest>((resolve) => {
        b.onRequest('INVITE', (req) => {
          req.progress(180);
          resolve(req);
        });
      });
      const endpointCancel = nextEvent(b, 'cancel');
      const call = a.invite({ uri: uriOf(b, 'bob') });
      const early = await nextEvent(call, 'early');
      const req = await ringing;
      const requestCancel = nextEvent(req, 'cancel');
      call.cancel();
      await t.rejects(call.completed, { code: 'SIP_ERR_CANCELLED', status: 487 });
      const [cancelled] = await endpointCancel;
      t.equal(cancelled, req);
      const [cancel] = await requestCancel;
      t.equal(cancel.method, 'CANCEL');
      t.ok(req.cancelled);
      t.equal(req.finalResponse?.status, 487);
      t.equal(early[0].state, 'terminated', 'the early dialog ended');
      t.equal(call.state, 'failed');
    },
  );

  t.test(
    `${protocol}: in-dialog INFO both ways reaches the dialog handler; unhandled methods get 405`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const answered = answerAfterRinging(b);
      const { dialog } = await a.invite({
        uri: uriOf(b, 'bob'),
        body: OFFER,
        contentType: 'application/sdp',
      });
      const { dialog: callee } = await answered;
      const infos: string[] = [];
      callee.onRequest('INFO', (req) => {
        infos.push(req.request.body.toString());
        req.respond(200, { body: 'ok', contentType: 'text/plain' });
      });
      dialog.onRequest('INFO', (req) => void req.respond(202));
      const r1 = await dialog.request('INFO', {
        body: 'Signal=5\r\n',
        contentType: 'application/dtmf-relay',
      });
      t.equal(r1.status, 200);
      t.equal(r1.body.toString(), 'ok');
      t.same(infos, ['Signal=5\r\n']);
      t.equal((await callee.request('INFO')).status, 202);
      t.equal((await dialog.request('UPDATE')).status, 405, 'no UPDATE handler');
      t.equal((await dialog.request('INFO')).status, 200, 'CSeq keeps increasing');
      t.equal(dialog.state, 'confirmed');
    },
  );

  t.test(
    `${protocol}: a re-INVITE is answered by default with the last local SDP and ACKed`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const answered = answerAfterRinging(b);
      const { dialog } = await a.invite({
        uri: uriOf(b, 'bob'),
        body: OFFER,
        contentType: 'application/sdp',
      });
      const { dialog: callee } = await answered;
      const ack = nextEvent(callee, 'ack');
      const res = await dialog.reinvite({ body: OFFER, contentType: 'application/sdp' });
      t.equal(res.status, 200);
      t.equal(res.body.toString(), ANSWER);
      const [ackReq] = await ack;
      t.equal(ackReq.cseq.seq, res.cseq.seq, 'the ACK carries the re-INVITE CSeq number');
      // and the other direction, with a handler
      callee.onRequest('INFO', (r) => void r.respond(200));
      dialog.onRequest(
        'INVITE',
        (req) => void req.accept({ body: OFFER, contentType: 'application/sdp' }),
      );
      const back = await callee.reinvite({ body: ANSWER, contentType: 'application/sdp' });
      t.equal(back.status, 200);
      t.equal(callee.remoteBody?.toString(), OFFER);
    },
  );
}

t.test('a 2xx creates one dialog per side, found again by the dialog store', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  const dialogs: DialogSession[] = [];
  b.on('dialog', (d) => dialogs.push(d));
  b.onRequest('INVITE', (req) => void req.accept());
  const { dialog } = await a.invite({ uri: uriOf(b, 'bob') });
  await until(() => dialogs.length === 1);
  t.equal(a.dialogs.size, 1);
  t.equal(b.dialogs.size, 1);
  t.equal(dialogs[0]?.dialog.id.localTag, dialog.dialog.id.remoteTag);
  await dialog.bye();
  t.equal(a.dialogs.size, 0);
});

t.test('cancel() before any provisional waits for one, then CANCELs (RFC 3261 §9.1)', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  const invites: IncomingRequest[] = [];
  b.onRequest('INVITE', (req) => void invites.push(req)); // no answer: the transaction sends 100 Trying
  const cancelled = nextEvent(b, 'cancel');
  const provisional: number[] = [];
  const call = a.invite({ uri: uriOf(b, 'bob'), onProvisional: (r) => provisional.push(r.status) });
  await until(() => invites.length === 1);
  t.equal(call.state, 'calling', 'no provisional yet');
  call.cancel();
  await t.rejects(call.completed, { code: 'SIP_ERR_CANCELLED', status: 487 });
  await cancelled;
  t.same(provisional, [100], 'the CANCEL went out after the 100 Trying');
  t.ok(invites[0]?.cancelled);
});

t.test('cancel() before the INVITE left rejects at once and sends nothing', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  let invites = 0;
  b.onRequest('INVITE', () => void invites++);
  const call = a.invite({ uri: uriOf(b, 'bob') });
  call.cancel();
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.equal((err as EndpointError).code, 'SIP_ERR_CANCELLED');
  t.equal((err as EndpointError).status, undefined, 'no response involved');
  const probe = await a.request({ method: 'OPTIONS', uri: uriOf(b, 'x') });
  t.equal(probe.status, 200);
  t.equal(invites, 0);
});

t.test('re-INVITE glare: both sides answer the other 491 (RFC 3261 §14.2)', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  const created = nextEvent(b, 'dialog');
  b.onRequest('INVITE', (req) => void req.accept({ body: ANSWER, contentType: 'application/sdp' }));
  const { dialog } = await a.invite({
    uri: uriOf(b, 'bob'),
    body: OFFER,
    contentType: 'application/sdp',
  });
  const [callee] = await created;
  await nextEvent(callee, 'ack');
  const [mine, theirs] = await Promise.all([
    dialog.reinvite({ body: OFFER, contentType: 'application/sdp' }),
    callee.reinvite({ body: ANSWER, contentType: 'application/sdp' }),
  ]);
  t.equal(mine.status, 491);
  t.equal(theirs.status, 491);
  t.equal(dialog.state, 'confirmed', 'a 491 keeps the dialog');
  t.equal(
    (await dialog.reinvite({ body: OFFER, contentType: 'application/sdp' })).status,
    200,
    'a later re-INVITE works',
  );
});

t.test('a request listener on the endpoint may answer before the handler runs', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  let handlerRan = false;
  b.on('request', (req) => {
    if (req.method === 'MESSAGE') req.respond(403);
  });
  b.onRequest('MESSAGE', (req) => {
    handlerRan = true;
    req.respond(200);
  });
  t.equal((await a.request({ method: 'MESSAGE', uri: uriOf(b, 'x') })).status, 403);
  t.notOk(handlerRan);
});
