import t from 'tap';
import { EndpointError } from '../../src/endpoint/endpoint-error.js';
import { endpointPair, uriOf } from '../support/endpoint-harness.js';

for (const protocol of ['udp', 'tcp'] as const) {
  t.test(
    `${protocol}: OPTIONS without a handler is answered 200 with Allow (RFC 3261 §11.2)`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      b.onRequest('INVITE', (req) => void req.reject(486));
      const res = await a.request({ method: 'OPTIONS', uri: uriOf(b, 'service') });
      t.equal(res.status, 200);
      const allow = res.headers.values('Allow');
      t.ok(
        allow.includes('OPTIONS') && allow.includes('INVITE') && allow.includes('BYE'),
        allow.join(),
      );
      t.ok(res.toTag, 'the final response carries a To tag');
    },
  );

  t.test(
    `${protocol}: an OPTIONS handler answers with its own status, headers and body`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol, { b: { userAgent: 'uas-test/1' } });
      const seen: string[] = [];
      b.onRequest('OPTIONS', (req) => {
        seen.push(req.request.headers.get('X-Probe') ?? '');
        req.respond(200, {
          headers: { 'X-Answer': 'yes' },
          body: 'hello',
          contentType: 'text/plain',
        });
      });
      const res = await a.request({
        method: 'OPTIONS',
        uri: uriOf(b, 'service'),
        headers: { 'X-Probe': 'p1' },
      });
      t.same(seen, ['p1']);
      t.equal(res.status, 200);
      t.equal(res.headers.get('X-Answer'), 'yes');
      t.equal(res.headers.get('Server'), 'uas-test/1');
      t.equal(res.body.toString(), 'hello');
      t.equal(res.headers.get('Content-Type'), 'text/plain');
    },
  );

  t.test(
    `${protocol}: a known method without handler gets 405 with Allow, an unknown one 501`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      b.onRequest('MESSAGE', (req) => void req.respond(202));
      const sub = await a.request({
        method: 'SUBSCRIBE',
        uri: uriOf(b, 'x'),
        headers: { Event: 'presence' },
      });
      t.equal(sub.status, 405);
      t.ok(sub.headers.values('Allow').includes('MESSAGE'));
      const odd = await a.request({ method: 'FROBNICATE', uri: uriOf(b, 'x') });
      t.equal(odd.status, 501);
      const msg = await a.request({
        method: 'MESSAGE',
        uri: uriOf(b, 'x'),
        body: 'hi',
        contentType: 'text/plain',
      });
      t.equal(msg.status, 202);
    },
  );

  t.test(
    `${protocol}: a request with a To tag matching no dialog gets 481 (RFC 3261 §12.2.2)`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol);
      const uri = uriOf(b, 'bob');
      const res = await a.request({ method: 'BYE', uri, to: `<${uri}>;tag=nosuchdialog` });
      t.equal(res.status, 481);
      const info = await a.request({ method: 'INFO', uri, to: `<${uri}>;tag=nosuchdialog` });
      t.equal(info.status, 481);
    },
  );

  t.test(
    `${protocol}: an unsupported Require gets 420 with Unsupported (RFC 3261 §8.2.2.3)`,
    async (t) => {
      const { a, b } = await endpointPair(t, protocol, { b: { supported: ['timer'] } });
      b.onRequest('OPTIONS', (req) => void req.respond(200));
      const res = await a.request({
        method: 'OPTIONS',
        uri: uriOf(b, 'x'),
        headers: { Require: 'foo, timer' },
      });
      t.equal(res.status, 420);
      t.same(res.headers.values('Unsupported'), ['foo']);
      const ok = await a.request({
        method: 'OPTIONS',
        uri: uriOf(b, 'x'),
        headers: { Require: 'timer' },
      });
      t.equal(ok.status, 200);
    },
  );

  t.test(`${protocol}: a handler that throws yields 500 and an error event`, async (t) => {
    const { a, b } = await endpointPair(t, protocol);
    const errors: unknown[] = [];
    b.on('error', (err) => errors.push(err));
    b.onRequest('MESSAGE', () => {
      throw new Error('boom');
    });
    b.onRequest('INFO', async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    t.equal((await a.request({ method: 'MESSAGE', uri: uriOf(b, 'x') })).status, 500);
    t.equal((await a.request({ method: 'INFO', uri: uriOf(b, 'x') })).status, 500);
    t.same(
      errors.map((e) => (e as Error).message),
      ['boom', 'async boom'],
    );
  });
}

t.test(
  'provisional responses of a non-INVITE reach onProvisional before the final one',
  async (t) => {
    const { a, b } = await endpointPair(t, 'udp');
    b.onRequest('MESSAGE', (req) => {
      req.respond(183);
      setTimeout(() => req.respond(200), 20);
    });
    const seen: number[] = [];
    const res = await a.request({
      method: 'MESSAGE',
      uri: uriOf(b, 'x'),
      onProvisional: (r) => seen.push(r.status),
    });
    t.same(seen, [183]);
    t.equal(res.status, 200);
  },
);

t.test('answering twice throws SIP_ERR_ENDPOINT_STATE', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  let second: unknown;
  b.onRequest('MESSAGE', (req) => {
    req.respond(200);
    try {
      req.respond(500);
    } catch (err) {
      second = err;
    }
  });
  t.equal((await a.request({ method: 'MESSAGE', uri: uriOf(b, 'x') })).status, 200);
  t.ok(second instanceof EndpointError);
  t.equal((second as EndpointError).code, 'SIP_ERR_ENDPOINT_STATE');
});

t.test('request() to an unparsable URI rejects with SIP_ERR_NO_TARGET', async (t) => {
  const { a } = await endpointPair(t, 'udp');
  await t.rejects(a.request({ method: 'OPTIONS', uri: 'sip:bob@' }), { code: 'SIP_ERR_NO_TARGET' });
  await t.rejects(a.request({ method: 'INVITE', uri: 'sip:bob@127.0.0.1' }), {
    code: 'SIP_ERR_ENDPOINT_ARGUMENT',
  });
});

t.test(
  'close() is idempotent and later requests reject with SIP_ERR_ENDPOINT_CLOSED',
  async (t) => {
    const { a, b } = await endpointPair(t, 'udp');
    const first = a.close();
    const second = a.close();
    t.equal(first, second, 'the same promise');
    await first;
    t.ok(a.closed);
    await t.rejects(a.request({ method: 'OPTIONS', uri: uriOf(b, 'x') }), {
      code: 'SIP_ERR_ENDPOINT_CLOSED',
    });
  },
);

t.test('close() rejects a request still waiting for its answer', async (t) => {
  const { a, b } = await endpointPair(t, 'udp');
  b.onRequest('MESSAGE', () => undefined); // never answers
  const pending = a.request({ method: 'MESSAGE', uri: uriOf(b, 'x') });
  await new Promise((r) => setTimeout(r, 20));
  await a.close();
  await t.rejects(pending, { code: 'SIP_ERR_ENDPOINT_CLOSED' });
});

t.test(
  'the callId option makes the Call-ID of requests and calls the endpoint starts',
  async (t) => {
    let n = 0;
    const { a, b } = await endpointPair(t, 'udp', { a: { callId: () => `owned-${++n}` } });
    const seen: string[] = [];
    b.onRequest('OPTIONS', (req) => {
      seen.push(req.request.callId);
      req.respond(200);
    });
    b.onRequest('INVITE', (req) => {
      seen.push(req.request.callId);
      req.reject(486);
    });
    t.equal((await a.request({ method: 'OPTIONS', uri: uriOf(b, 'x') })).status, 200);
    const call = await a.invite({ uri: uriOf(b, 'y') }).then(
      () => 'answered',
      (err: unknown) => err,
    );
    t.ok(call instanceof EndpointError, 'the INVITE was refused (486)');
    t.equal(
      (await a.request({ method: 'OPTIONS', uri: uriOf(b, 'z'), callId: 'given-1' })).status,
      200,
    );
    t.same(seen, ['owned-1', 'owned-2', 'given-1'], 'a callId given to one request wins');
    t.equal(a.newCallId(), 'owned-3');
    t.match(b.newCallId(), /\S{8,}/, 'without the option: a random one');
  },
);
