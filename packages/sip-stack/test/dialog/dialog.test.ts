import t from 'tap';
import { parseMessage } from '../../src/message/parse-message.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import { createUacDialog, createUasDialog } from '../../src/dialog/create-dialog.js';
import type { Dialog } from '../../src/dialog/dialog.js';
import { DialogError } from '../../src/dialog/dialog-error.js';
import { request, response } from '../transaction/messages.js';

const RR_P1 = '<sip:p1.example.com;lr>';
const RR_P2 = '<sip:p2.example.com;lr>';

function invite(extra: string[] = [], uri = 'sip:bob@example.com'): SipRequest {
  return request({ uri, cseq: 314, extra });
}

function uac(
  status = 200,
  headers: Record<string, string | string[]> = {},
  req = invite(),
): Dialog {
  const r = createUacDialog(
    req,
    response(req, status, {
      toTag: 'bobtag',
      headers: { Contact: '<sip:bob@192.0.2.4:5080>', ...headers },
    }),
  );
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

function uas(status = 200, extra: string[] = [], uri?: string): Dialog {
  const req = invite(extra, uri);
  const r = createUasDialog(
    req,
    response(req, status, { toTag: 'ourtag', headers: { Contact: '<sip:bob@198.51.100.1>' } }),
  );
  if (!r.ok) throw new Error(r.reason);
  return r.dialog;
}

/** Serialise and parse again, so assertions see the request as the wire would. */
function wire(req: SipRequest): SipRequest {
  const r = parseMessage(req.toBuffer());
  if (!r.ok || r.message.kind !== 'request') throw new Error('built request did not parse');
  return r.message;
}

t.test('dialog: UAC 1xx with a To tag creates an early dialog (RFC 3261 §12.1.2)', (t) => {
  const d = uac(180, { 'Record-Route': [RR_P2, RR_P1] });
  t.equal(d.state, 'Early');
  t.equal(d.role, 'uac');
  t.same(d.id, { callId: 'call-1@pc33', localTag: 'a1', remoteTag: 'bobtag' });
  t.equal(d.remoteTarget, 'sip:bob@192.0.2.4:5080', 'remote target from Contact');
  t.same(
    d.routeSet.map((r) => r.uri),
    ['sip:p1.example.com;lr', 'sip:p2.example.com;lr'],
    'route set = Record-Route reversed',
  );
  t.equal(d.localSeq, 314);
  t.equal(d.remoteSeq, undefined);
  t.equal(d.localUri, 'sip:alice@example.com');
  t.equal(d.remoteUri, 'sip:bob@example.com');
  t.equal(d.localTarget, 'sip:alice@pc33.example.com');
  t.equal(d.secure, false);
  t.end();
});

t.test('dialog: UAC 2xx creates a confirmed dialog', (t) => {
  t.equal(uac(200).state, 'Confirmed');
  t.end();
});

t.test('dialog: UAC 100, a 1xx without To tag, and non-2xx finals create no dialog', (t) => {
  const req = invite();
  t.notOk(createUacDialog(req, response(req, 100)).ok);
  const noTag = response(req, 180, { headers: { Contact: '<sip:b@x>' } });
  noTag.headers.set('To', 'Bob <sip:bob@example.com>');
  t.notOk(createUacDialog(req, noTag).ok);
  t.notOk(createUacDialog(req, response(req, 486, { headers: { Contact: '<sip:b@x>' } })).ok);
  t.end();
});

t.test('dialog: UAC 2xx without a To tag (RFC 2543 peer) gets an empty remote tag', (t) => {
  const req = invite();
  const ok = response(req, 200, { headers: { Contact: '<sip:b@x>' } });
  ok.headers.set('To', 'Bob <sip:bob@example.com>');
  const r = createUacDialog(req, ok);
  t.ok(r.ok);
  if (r.ok) t.equal(r.dialog.id.remoteTag, '');
  t.end();
});

t.test('dialog: UAC response without Contact creates no dialog', (t) => {
  const req = invite();
  const r = createUacDialog(req, response(req, 200));
  t.same(r, { ok: false, reason: 'response has no Contact' });
  t.end();
});

t.test(
  'dialog: UAC early dialog confirmed by 2xx recomputes route set and remote target (RFC 3261 §13.2.2.4)',
  (t) => {
    const req = invite();
    const d = uac(183, { 'Record-Route': [RR_P1] }, req);
    d.receiveResponse(
      response(req, 200, {
        toTag: 'bobtag',
        headers: { Contact: '<sip:bob@192.0.2.99>', 'Record-Route': [RR_P2, RR_P1] },
      }),
    );
    t.equal(d.state, 'Confirmed');
    t.equal(d.remoteTarget, 'sip:bob@192.0.2.99');
    t.same(
      d.routeSet.map((r) => r.uri),
      ['sip:p1.example.com;lr', 'sip:p2.example.com;lr'],
    );
    t.end();
  },
);

t.test('dialog: UAC early dialog takes the remote target of a later 1xx', (t) => {
  const req = invite();
  const d = uac(180, {}, req);
  d.receiveResponse(
    response(req, 183, { toTag: 'bobtag', headers: { Contact: '<sip:bob@192.0.2.50>' } }),
  );
  t.equal(d.state, 'Early');
  t.equal(d.remoteTarget, 'sip:bob@192.0.2.50');
  t.end();
});

t.test('dialog: a SIPS Request-URI makes the dialog secure', (t) => {
  const req = invite([], 'sips:bob@example.com');
  t.equal(uac(200, {}, req).secure, true);
  t.end();
});

t.test(
  'dialog: UAS 2xx creates a confirmed dialog from the request and our response (RFC 3261 §12.1.1)',
  (t) => {
    const d = uas(200, [`Record-Route: ${RR_P1}, ${RR_P2}`]);
    t.equal(d.state, 'Confirmed');
    t.equal(d.role, 'uas');
    t.same(d.id, { callId: 'call-1@pc33', localTag: 'ourtag', remoteTag: 'a1' });
    t.equal(d.remoteTarget, 'sip:alice@pc33.example.com');
    t.same(
      d.routeSet.map((r) => r.uri),
      ['sip:p1.example.com;lr', 'sip:p2.example.com;lr'],
      'route set = Record-Route in order',
    );
    t.equal(d.remoteSeq, 314);
    t.equal(d.localSeq, undefined);
    t.equal(d.localUri, 'sip:bob@example.com');
    t.equal(d.remoteUri, 'sip:alice@example.com');
    t.equal(d.localTarget, 'sip:bob@198.51.100.1');
    t.end();
  },
);

t.test('dialog: UAS 1xx with our tag creates an early dialog', (t) => {
  t.equal(uas(180).state, 'Early');
  t.end();
});

t.test('dialog: UAS creation needs our To tag and the request Contact', (t) => {
  const req = invite();
  const noTag = response(req, 200);
  noTag.headers.set('To', 'Bob <sip:bob@example.com>');
  t.same(createUasDialog(req, noTag), { ok: false, reason: 'response has no To tag' });
  const noContact = request({ cseq: 1 });
  noContact.headers.delete('Contact');
  t.same(createUasDialog(noContact, response(noContact, 200)), {
    ok: false,
    reason: 'request has no Contact',
  });
  t.end();
});

t.test(
  'dialog: in-dialog request with an empty route set goes to the remote target (RFC 3261 §12.2.1.1)',
  (t) => {
    const d = uac(200);
    const bye = wire(d.createRequest('BYE'));
    t.equal(bye.method, 'BYE');
    t.equal(bye.uri, 'sip:bob@192.0.2.4:5080');
    t.equal(bye.headers.has('Route'), false);
    t.equal(bye.fromTag, 'a1');
    t.equal(bye.toTag, 'bobtag');
    t.equal(bye.from.uri, 'sip:alice@example.com');
    t.equal(bye.to.uri, 'sip:bob@example.com');
    t.equal(bye.callId, 'call-1@pc33');
    t.same(bye.cseq, { seq: 315, method: 'BYE' });
    t.equal(bye.maxForwards, 70);
    t.ok(bye.topVia?.branch?.startsWith('z9hG4bK'));
    t.equal(d.nextHopUri(), 'sip:bob@192.0.2.4:5080');
    t.end();
  },
);

t.test(
  'dialog: loose route set keeps the remote target as Request-URI and lists the routes',
  (t) => {
    const d = uac(200, { 'Record-Route': [RR_P2, RR_P1] });
    const req = wire(d.createRequest('INFO'));
    t.equal(req.uri, 'sip:bob@192.0.2.4:5080');
    t.same(req.headers.values('Route'), [RR_P1, RR_P2]);
    t.equal(d.nextHopUri(), 'sip:p1.example.com;lr');
    t.end();
  },
);

t.test(
  'dialog: strict router (lr absent) becomes the Request-URI and the remote target the last Route',
  (t) => {
    const d = uac(200, {
      'Record-Route': [
        '<sip:p2.example.com;lr>',
        '<sip:strict.example.com;method=INVITE;transport=tcp>',
      ],
    });
    const req = wire(d.createRequest('BYE'));
    t.equal(
      req.uri,
      'sip:strict.example.com;transport=tcp',
      'first route URI, method param stripped',
    );
    t.same(req.headers.values('Route'), ['<sip:p2.example.com;lr>', '<sip:bob@192.0.2.4:5080>']);
    t.end();
  },
);

t.test('dialog: strict routing strips URI headers from the Request-URI', (t) => {
  const d = uas(200, ['Record-Route: <sip:strict.example.com?X-Foo=bar>']);
  const req = wire(d.createRequest('BYE'));
  t.equal(req.uri, 'sip:strict.example.com');
  t.same(req.headers.values('Route'), ['<sip:alice@pc33.example.com>']);
  t.end();
});

t.test('dialog: local CSeq increases by one per request', (t) => {
  const d = uac(200);
  t.equal(d.createRequest('INFO').cseq.seq, 315);
  t.equal(d.createRequest('BYE').cseq.seq, 316);
  t.equal(d.localSeq, 316);
  t.end();
});

t.test('dialog: a UAS dialog chooses its first local CSeq', (t) => {
  const d = uas();
  t.equal(d.createRequest('BYE').cseq.seq, 1);
  t.end();
});

t.test('dialog: target-refresh requests carry our Contact, others do not', (t) => {
  const d = uac(200);
  t.equal(wire(d.createRequest('INVITE')).contacts[0]?.uri, 'sip:alice@pc33.example.com');
  t.equal(wire(d.createRequest('BYE')).headers.has('Contact'), false);
  t.end();
});

t.test('dialog: createRequest refuses ACK and CANCEL, and requests in a terminated dialog', (t) => {
  const d = uac(200);
  const codeOf = (f: () => unknown): string | undefined => {
    try {
      f();
    } catch (e) {
      return e instanceof DialogError ? e.code : 'other';
    }
    return undefined;
  };
  t.equal(
    codeOf(() => d.createRequest('ACK')),
    'SIP_ERR_DIALOG_REQUEST',
  );
  t.equal(
    codeOf(() => d.createRequest('CANCEL')),
    'SIP_ERR_DIALOG_REQUEST',
  );
  d.terminate();
  d.terminate();
  t.equal(d.state, 'Terminated');
  t.equal(
    codeOf(() => d.createRequest('BYE')),
    'SIP_ERR_DIALOG_REQUEST',
  );
  t.end();
});

t.test(
  'dialog: ACK for a 2xx is built from the dialog with the INVITE CSeq number (RFC 3261 §13.2.2.4)',
  (t) => {
    const req = invite([
      'Proxy-Authorization: Digest username="alice", realm="x", nonce="n", uri="sip:bob@example.com", response="r"',
    ]);
    const d = uac(200, { 'Record-Route': [RR_P1] }, req);
    const ack = wire(d.createAck(req));
    t.equal(ack.method, 'ACK');
    t.same(ack.cseq, { seq: 314, method: 'ACK' });
    t.equal(ack.uri, 'sip:bob@192.0.2.4:5080');
    t.same(ack.headers.values('Route'), [RR_P1]);
    t.equal(ack.toTag, 'bobtag');
    t.not(ack.topVia?.branch, req.topVia?.branch, 'a new branch: the ACK is its own transaction');
    t.match(
      ack.headers.get('Proxy-Authorization'),
      /^Digest username="alice"/,
      'same credentials as the INVITE',
    );
    t.equal(d.localSeq, 314, 'the ACK does not consume a CSeq');
    t.end();
  },
);

t.test(
  'dialog: a request with a CSeq lower than the remote CSeq is answered 500 (RFC 3261 §12.2.2)',
  (t) => {
    const d = uas();
    t.same(d.validateRemoteCSeq(request({ method: 'BYE', cseq: 313, toTag: 'ourtag' })), {
      ok: false,
      status: 500,
      reason: 'CSeq 313 lower than 314',
    });
    t.same(d.receiveRequest(request({ method: 'BYE', cseq: 313, toTag: 'ourtag' })).ok, false);
    t.equal(d.remoteSeq, 314, 'an out-of-order request does not move the remote CSeq');
    t.end();
  },
);

t.test('dialog: a higher remote CSeq is in order and recorded', (t) => {
  const d = uas();
  t.same(d.receiveRequest(request({ method: 'INFO', cseq: 400, toTag: 'ourtag' })), { ok: true });
  t.equal(d.remoteSeq, 400);
  t.end();
});

t.test('dialog: ACK and CANCEL never fail the remote CSeq check nor move it', (t) => {
  const d = uas();
  d.receiveRequest(request({ method: 'INFO', cseq: 400, toTag: 'ourtag' }));
  t.same(d.receiveRequest(request({ method: 'ACK', cseq: 314, toTag: 'ourtag' })), { ok: true });
  t.same(d.receiveRequest(request({ method: 'CANCEL', cseq: 314, toTag: 'ourtag' })), { ok: true });
  t.equal(d.remoteSeq, 400);
  t.end();
});

t.test('dialog: an empty remote CSeq takes the first request (UAC side)', (t) => {
  const d = uac(200);
  t.equal(d.remoteSeq, undefined);
  t.same(d.receiveRequest(request({ method: 'BYE', cseq: 1, fromTag: 'bobtag', toTag: 'a1' })), {
    ok: true,
  });
  t.equal(d.remoteSeq, 1);
  t.end();
});

t.test(
  'dialog: 2xx to a re-INVITE we sent refreshes the remote target from the response (RFC 3261 §12.2.1.2)',
  (t) => {
    const d = uac(200, { 'Record-Route': [RR_P1] });
    const reinvite = d.createRequest('INVITE');
    const ok = response(wire(reinvite), 200, {
      toTag: 'bobtag',
      headers: { Contact: '<sip:bob@203.0.113.9>' },
    });
    t.equal(d.refreshTarget(reinvite, ok), true);
    t.equal(d.remoteTarget, 'sip:bob@203.0.113.9');
    t.same(
      d.routeSet.map((r) => r.uri),
      ['sip:p1.example.com;lr'],
      'the route set is not changed',
    );
    t.equal(
      wire(d.createRequest('BYE')).uri,
      'sip:bob@203.0.113.9',
      'next requests use the new target',
    );
    t.end();
  },
);

t.test(
  'dialog: our 2xx to a received UPDATE refreshes the remote target from the request (RFC 3261 §12.2.2)',
  (t) => {
    const d = uas();
    const update = request({
      method: 'UPDATE',
      cseq: 315,
      fromTag: 'a1',
      toTag: 'ourtag',
      extra: [],
    });
    update.headers.set('Contact', '<sip:alice@203.0.113.77>');
    t.equal(d.refreshTarget(update, response(update, 200, { toTag: 'ourtag' })), true);
    t.equal(d.remoteTarget, 'sip:alice@203.0.113.77');
    t.end();
  },
);

t.test('dialog: non-2xx answers and non-refresh methods leave the remote target alone', (t) => {
  const d = uas();
  const reinvite = request({ cseq: 315, toTag: 'ourtag' });
  reinvite.headers.set('Contact', '<sip:alice@203.0.113.77>');
  t.equal(d.refreshTarget(reinvite, response(reinvite, 488, { toTag: 'ourtag' })), false);
  const info = request({ method: 'INFO', cseq: 316, toTag: 'ourtag' });
  info.headers.set('Contact', '<sip:alice@203.0.113.77>');
  t.equal(d.refreshTarget(info, response(info, 200, { toTag: 'ourtag' })), false);
  t.equal(d.remoteTarget, 'sip:alice@pc33.example.com');
  t.end();
});
