import t from 'tap';
import { DigestServer } from '../../src/auth/digest-server.js';
import { computeHa1 } from '../../src/auth/digest-algorithm.js';
import { parseDigestCredentials } from '../../src/auth/digest-credentials.js';
import type { SipRequest } from '../../src/message/sip-message.js';
import { endpointPair, nextEvent, uriOf } from '../support/endpoint-harness.js';
import { MemoryRegistrar } from '../support/memory-registrar.js';

const REALM = 'example.test';
const ALICE = { username: 'alice', password: 'secret' };

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(
    `${protocol}: REGISTER is challenged 401 and answered once with digest; the 200 lists the Contact`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const registrar = new MemoryRegistrar(b, { realm: REALM, users: { alice: 'secret' } });
      const registrarUri = uriOf(b, '').replace('sip:@', 'sip:');
      const res = await a.request({
        method: 'REGISTER',
        uri: registrarUri,
        from: '<sip:alice@example.test>',
        to: '<sip:alice@example.test>',
        headers: { Expires: '600' },
        credentials: ALICE,
      });
      t.equal(res.status, 200);
      t.equal(registrar.challenges, 1, 'one 401');
      t.equal(registrar.seen.length, 2, 'the REGISTER was sent twice');
      const [first, second] = registrar.seen.map((r) => r.request);
      t.equal(second?.cseq.seq, (first?.cseq.seq ?? 0) + 1, 'RFC 3261 §22.2: new CSeq');
      t.equal(second?.callId, first?.callId, 'same Call-ID');
      t.not(second?.topVia?.branch, first?.topVia?.branch, 'new transaction');
      const creds = parseDigestCredentials(second?.headers.get('Authorization') ?? '');
      t.ok(creds.ok && creds.value.algorithm === 'SHA-256', 'the strongest offered algorithm');
      const contact = res.contacts[0];
      t.equal(contact?.uri, a.contactUri(protocol));
      t.equal(contact?.expires, 600);
      t.equal(registrar.lookup('sip:alice@example.test')?.contact, a.contactUri(protocol));
    },
  );

  t.test(`${protocol}: a wrong password gets the second 401 back instead of looping`, async (t) => {
    const { a, b } = await endpointPair(t, protocol);
    const registrar = new MemoryRegistrar(b, { realm: REALM, users: { alice: 'secret' } });
    const res = await a.request({
      method: 'REGISTER',
      uri: uriOf(b, 'registrar'),
      from: '<sip:alice@example.test>',
      to: '<sip:alice@example.test>',
      credentials: { username: 'alice', password: 'wrong' },
    });
    t.equal(res.status, 401);
    t.equal(registrar.challenges, 2);
    const anonymous = await a.request({
      method: 'REGISTER',
      uri: uriOf(b, 'registrar'),
      to: '<sip:alice@example.test>',
    });
    t.equal(anonymous.status, 401, 'without credentials the challenge is the answer');
  });

  t.test(
    `${protocol}: an INVITE challenged 407 is resent with Proxy-Authorization and completes`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol, { a: { credentials: ALICE } });
      const digest = new DigestServer({ realm: REALM, mode: 'proxy', algorithms: ['MD5'] });
      const seen: SipRequest[] = [];
      b.onRequest('INVITE', async (req) => {
        seen.push(req.request);
        const v = await digest.verify(req.request, (user, realm, alg) =>
          user === 'alice' ? computeHa1(alg, user, realm, 'secret') : undefined,
        );
        if (!v.ok) req.respondWith(v.response);
        else req.accept({ body: 'v=0\r\n', contentType: 'application/sdp' });
      });
      const dialogs = nextEvent(b, 'dialog');
      const { dialog, response } = await a.invite({
        uri: uriOf(b, 'bob'),
        body: 'v=0\r\n',
        contentType: 'application/sdp',
      });
      t.equal(response.status, 200);
      t.equal(seen.length, 2);
      t.notOk(seen[0]?.headers.has('Proxy-Authorization'));
      const creds = parseDigestCredentials(seen[1]?.headers.get('Proxy-Authorization') ?? '');
      t.ok(creds.ok && creds.value.algorithm === 'MD5' && creds.value.username === 'alice');
      t.equal(seen[1]?.cseq.seq, 2);
      t.equal(seen[1]?.fromTag, seen[0]?.fromTag, 'same From tag: same call');
      const [callee] = await dialogs;
      await nextEvent(callee, 'ack');
      t.equal(dialog.dialog.localSeq, 2, 'the dialog continues from the authorised CSeq');
      t.equal((await dialog.bye()).status, 200);
    },
  );

  t.test(
    `${protocol}: an in-dialog request challenged 401 is retried with the dialog's next CSeq`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol, { a: { credentials: ALICE } });
      const digest = new DigestServer({ realm: REALM, algorithms: ['MD5'] });
      b.onRequest('INVITE', (req) => void req.accept());
      const created = nextEvent(b, 'dialog');
      const { dialog } = await a.invite({ uri: uriOf(b, 'bob') });
      const [callee] = await created;
      const infos: number[] = [];
      callee.onRequest('INFO', async (req) => {
        infos.push(req.request.cseq.seq);
        const v = await digest.verify(req.request, (u, r, alg) => computeHa1(alg, u, r, 'secret'));
        if (v.ok) req.respond(200);
        else req.respondWith(v.response);
      });
      const res = await dialog.request('INFO');
      t.equal(res.status, 200);
      t.same(infos, [2, 3]);
      t.equal(dialog.dialog.localSeq, 3);
    },
  );
}
