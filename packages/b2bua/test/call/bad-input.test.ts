import t from 'tap';
import type { DialogSession, IncomingRequest, SipEndpoint } from '@switchboard/sip-stack';
import {
  b2buaHarness,
  drained,
  failure,
  nextEvent,
  party,
  until,
  uriOf,
} from '../support/call-harness.js';
import { RawPeer, responseText } from '../support/raw-peer.js';
import { ANSWER_B, OFFER_A } from '../support/sdp-samples.js';

function answerWith(b: SipEndpoint, body: string): Promise<DialogSession> {
  return new Promise((resolve) => {
    b.onRequest('INVITE', (req) => resolve(req.accept({ body, contentType: 'application/sdp' })));
  });
}

/** An INVITE from the raw peer to the B2BUA, as text. */
function rawInvite(peer: RawPeer, b2buaUri: string, cseq: number): string {
  return [
    `INVITE ${b2buaUri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=z9hG4bK-raw-${cseq};rport`,
    'Max-Forwards: 70',
    '<sip:raw@127.0.0.1>;tag=rawtag'.replace(/^/, 'From: '),
    `To: <${b2buaUri}>`,
    'Call-ID: raw-call-1',
    `CSeq: ${cseq} INVITE`,
    `Contact: <sip:raw@${peer.hostport}>`,
    'Content-Type: application/sdp',
    '',
    OFFER_A,
  ].join('\r\n');
}

/** An in-dialog request from the raw caller, after the B2BUA's 2xx `ok`. */
function rawInDialog(
  peer: RawPeer,
  ok: { headers: { get(n: string): string | undefined } },
  method: string,
  cseq: number,
  uri: string,
  body = '',
): string {
  return [
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${peer.hostport};branch=z9hG4bK-raw-${method}-${cseq};rport`,
    'Max-Forwards: 70',
    'From: <sip:raw@127.0.0.1>;tag=rawtag',
    `To: ${ok.headers.get('To') ?? ''}`,
    'Call-ID: raw-call-1',
    `CSeq: ${cseq} ${method}`,
    ...(body === '' ? [] : ['Content-Type: application/dtmf-relay']),
    '',
    body,
  ].join('\r\n');
}

function b2buaPort(ep: SipEndpoint): number {
  return ep.listeningPoints()[0]?.local.port ?? 0;
}

t.test(
  'an offer that does not parse gets 400; no callee is called, no relay session opens',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    let called = false;
    b.onRequest('INVITE', (req) => {
      called = true;
      req.reject(603);
    });
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    t.match(
      await failure(
        a.invite({ uri: h.uri, body: 'v=0\r\nthis is not sdp', contentType: 'application/sdp' })
          .completed,
      ),
      { status: 400 },
    );
    t.notOk(called);
    t.equal(h.relay.sessions.length, 0);
    t.match(h.calls[0]?.end, { reason: 'media-failed', status: 400 });
    await drained(t, h);
  },
);

t.test('an offer with no codec the policy allows gets 488 with Warning 305', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, {
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }], policy: { codecs: { allow: ['G729'] } } }),
  });
  const err = await failure(
    a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
  );
  t.equal(err.status, 488);
  t.match(err.warning, /^305 /);
  await drained(t, h);
});

t.test('an INVITE with a body other than SDP gets 415 with Accept', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  t.match(
    await failure(a.invite({ uri: h.uri, body: '{}', contentType: 'application/json' }).completed),
    { status: 415 },
  );
  t.equal(h.relay.sessions.length, 0);
  await drained(t, h);
});

t.test('the relay has no ports: 503 with Retry-After', async (t) => {
  const a = await party(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  h.relay.capacity = 0;
  const err = await failure(
    a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
  );
  t.equal(err.status, 503);
  t.equal(err.retryAfter, '5');
  await drained(t, h);
});

t.test(
  'the callee answers with SDP that does not parse: it gets ACK + BYE, the caller 488',
  async (t) => {
    const a = await party(t);
    const b = await party(t);
    const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
    const bDialog = answerWith(b, 'v=0\r\ngarbage\r\n');
    t.match(
      await failure(
        a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' }).completed,
      ),
      { status: 488 },
    );
    const dialog = await bDialog;
    t.equal(await dialog.terminated, 'remote-bye', 'B was hung up');
    await drained(t, h);
  },
);

t.test('a 200 after CANCEL (crossing) is acknowledged and hung up', async (t) => {
  const a = await party(t);
  const raw = await RawPeer.open(t);
  const h = await b2buaHarness(t, {
    plan: () => ({ targets: [{ uri: `sip:bob@${raw.hostport}` }] }),
  });
  const invite = a.invite({ uri: h.uri, body: OFFER_A, contentType: 'application/sdp' });
  const inv = await raw.request('INVITE');
  raw.send(responseText(inv, 180, 'Ringing', { toTag: 'rawb' }), b2buaPort(h.endpoint));
  await nextEvent(invite, 'provisional');
  invite.cancel();
  const cancel = await raw.request('CANCEL');
  raw.send(responseText(cancel, 200, 'OK', { toTag: 'rawb' }), b2buaPort(h.endpoint));
  // The callee's 200 crossed the CANCEL: it answers anyway.
  raw.send(
    responseText(inv, 200, 'OK', {
      toTag: 'rawb',
      contact: `<sip:bob@${raw.hostport}>`,
      body: ANSWER_B,
    }),
    b2buaPort(h.endpoint),
  );
  const ack = await raw.request('ACK');
  t.equal(ack.cseq.seq, inv.cseq.seq, 'ACK for the 2xx');
  const bye = await raw.request('BYE');
  raw.send(responseText(bye, 200, 'OK'), b2buaPort(h.endpoint));
  await t.rejects(invite.completed, { code: 'SIP_ERR_CANCELLED' });
  t.match(h.calls[0]?.end, { reason: 'caller-cancelled' });
  await drained(t, h);
});

t.test('missing ACK: after 64*T1 the caller gets BYE and so does the callee', async (t) => {
  const raw = await RawPeer.open(t);
  const b = await party(t);
  const h = await b2buaHarness(t, {
    timers: { T1: 20 },
    plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }),
  });
  const bDialog = answerWith(b, ANSWER_B);
  raw.send(rawInvite(raw, h.uri, 1), b2buaPort(h.endpoint));
  const ok = await raw.response(200, 'INVITE');
  t.ok(ok.body.length > 0);
  const dialog = await bDialog;
  const bye = await raw.request('BYE');
  raw.send(responseText(bye, 200, 'OK'), b2buaPort(h.endpoint));
  t.equal(await dialog.terminated, 'remote-bye', 'B got BYE');
  t.ok(
    raw.count((m) => m.kind === 'response' && m.status === 200 && m.cseq.method === 'INVITE') >= 1,
    '2xx was retransmitted',
  );
  t.match(h.calls[0]?.end, { reason: 'ack-timeout', side: 'a' });
  await drained(t, h);
});

t.test('a request with a stale CSeq gets 500; in order it is relayed (INFO DTMF)', async (t) => {
  const raw = await RawPeer.open(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  const infos: string[] = [];
  b.onRequest('INVITE', (req) => {
    const d = req.accept({ body: ANSWER_B, contentType: 'application/sdp' });
    d.onRequest('INFO', (info: IncomingRequest) => {
      infos.push(info.request.body.toString());
      info.respond(200);
    });
  });
  raw.send(rawInvite(raw, h.uri, 10), b2buaPort(h.endpoint));
  const ok = await raw.response(200, 'INVITE');
  const contact = ok.contacts[0]?.uri ?? h.uri;
  raw.send(
    [
      `ACK ${contact} SIP/2.0`,
      `Via: SIP/2.0/UDP ${raw.hostport};branch=z9hG4bK-raw-ack;rport`,
      'Max-Forwards: 70',
      'From: <sip:raw@127.0.0.1>;tag=rawtag',
      `To: ${ok.headers.get('To') ?? ''}`,
      'Call-ID: raw-call-1',
      'CSeq: 10 ACK',
      '',
      '',
    ].join('\r\n'),
    b2buaPort(h.endpoint),
  );
  await until(() => h.calls[0]?.state === 'answered');
  raw.send(
    rawInDialog(raw, ok, 'INFO', 5, contact, 'Signal=1\r\nDuration=160\r\n'),
    b2buaPort(h.endpoint),
  );
  const stale = await raw.response(500, 'INFO');
  t.equal(stale.cseq.seq, 5);
  const dtmf =
    h.calls[0] === undefined ? Promise.reject(new Error('no call')) : nextEvent(h.calls[0], 'info');
  raw.send(
    rawInDialog(raw, ok, 'INFO', 11, contact, 'Signal=5\r\nDuration=160\r\n'),
    b2buaPort(h.endpoint),
  );
  const relayed = await raw.response(200, 'INFO');
  t.equal(relayed.cseq.seq, 11);
  t.same(infos, ['Signal=5\r\nDuration=160\r\n'], 'only the in-order INFO reached B');
  const [side, type, body] = await dtmf;
  t.equal(side, 'a');
  t.equal(type, 'application/dtmf-relay');
  t.match(body, /Signal=5/);
  t.equal(h.calls[0]?.state, 'answered', 'the call survives');
  h.calls[0]?.hangup();
  const bye = await raw.request('BYE');
  raw.send(responseText(bye, 200, 'OK'), b2buaPort(h.endpoint));
  await drained(t, h);
});

t.test('an INVITE with Max-Forwards 0 gets 483 (loop through B2BUAs)', async (t) => {
  const raw = await RawPeer.open(t);
  const b = await party(t);
  const h = await b2buaHarness(t, { plan: () => ({ targets: [{ uri: uriOf(b, 'bob') }] }) });
  raw.send(
    rawInvite(raw, h.uri, 1).replace('Max-Forwards: 70', 'Max-Forwards: 0'),
    b2buaPort(h.endpoint),
  );
  await raw.response(483, 'INVITE');
  t.equal(h.relay.sessions.length, 0);
  await drained(t, h);
});
