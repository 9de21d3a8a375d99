import t from 'tap';
import { createEndpoint, EndpointError, type SipEndpoint } from '@switchboard/sip-stack';
import { create } from '../support/test-store.js';
import {
  deviceUa,
  fakeGateway,
  RELAY_DOMAIN,
  registerUa,
  sdp,
  startTrunkEdge,
  type TrunkEdge,
} from './support/trunk-fixture.js';

/** A party outside our domains, without credentials. */
async function stranger(t: Parameters<typeof startTrunkEdge>[0]): Promise<SipEndpoint> {
  const ua = await createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    from: '<sip:mallory@foreign.test>',
  });
  t.teardown(() => ua.close());
  return ua;
}

async function status(p: PromiseLike<unknown>): Promise<number | undefined> {
  try {
    await p;
    return 200;
  } catch (err) {
    return err instanceof EndpointError ? err.status : undefined;
  }
}

function invite(edge: TrunkEdge, ua: SipEndpoint, uri: string) {
  return ua.invite({
    uri,
    route: edge.route,
    body: sdp(4000),
    contentType: 'application/sdp',
    timeoutMs: 10_000,
  });
}

t.test('relay: a stranger calling a foreign domain gets 403 Relaying Denied', async (t) => {
  const edge = await startTrunkEdge(t);
  const gw = await fakeGateway(t, 'answer');
  const ua = await stranger(t);
  let reason = '';
  try {
    await invite(edge, ua, `sip:someone@${RELAY_DOMAIN}:${gw.port}`);
  } catch (err) {
    if (err instanceof EndpointError) reason = `${err.status} ${err.response?.reason ?? ''}`;
  }
  t.equal(reason, '403 Relaying Denied');
  t.equal(gw.invites.length, 0);
  const msg = await ua.request({
    method: 'MESSAGE',
    uri: 'sip:someone@elsewhere.test',
    target: { protocol: 'udp', address: '127.0.0.1', port: edge.port },
    body: 'hi',
    contentType: 'text/plain',
  });
  t.equal(msg.status, 403, 'other methods are refused too');
});

t.test('relay: with relayForeignDomains the request is forwarded to its domain', async (t) => {
  const edge = await startTrunkEdge(t, { relayForeignDomains: true });
  const gw = await fakeGateway(t, 'answer');
  const ua = await stranger(t);
  const answered = await invite(edge, ua, `sip:someone@${RELAY_DOMAIN}:${gw.port}`);
  t.equal(answered.response.status, 200);
  t.equal(gw.invites[0]?.uri, `sip:someone@${RELAY_DOMAIN}:${gw.port}`);
  await answered.dialog.bye();
});

t.test('relay: keep-alive OPTIONS to the node are still answered for anyone', async (t) => {
  const edge = await startTrunkEdge(t);
  const ua = await stranger(t);
  const r = await ua.request({
    method: 'OPTIONS',
    uri: `sip:127.0.0.1:${edge.port}`,
    target: { protocol: 'udp', address: '127.0.0.1', port: edge.port },
  });
  t.equal(r.status, 200);
});

t.test('relay: a carrier calling one of our DIDs at our address reaches the user', async (t) => {
  const edge = await startTrunkEdge(t);
  const number = '442030000099';
  await create(edge.ts.store, 'did', {
    account_id: edge.pbx.accountId,
    number,
    dest_kind: 'user',
    dest_id: edge.pbx.users.bob,
  });
  const bob = await deviceUa(t, edge, 'bob');
  bob.onRequest('INVITE', (req) => {
    req.accept({ body: sdp(42000), contentType: 'application/sdp' });
  });
  t.equal(await registerUa(edge, bob, 'bob'), 200);
  const carrier = await stranger(t);
  const answered = await invite(edge, carrier, `sip:${number}@127.0.0.1:${edge.port}`);
  t.equal(answered.response.status, 200);
  await answered.dialog.bye();
});

t.test('relay: a stranger calling a user of our domain is challenged, not relayed', async (t) => {
  const edge = await startTrunkEdge(t);
  const ua = await stranger(t);
  t.equal(await status(invite(edge, ua, `sip:bob@${edge.pbx.domain}`)), 407);
});

t.test('relay: local users calling each other are unaffected', async (t) => {
  const edge = await startTrunkEdge(t);
  const alice = await deviceUa(t, edge, 'alice');
  const bob = await deviceUa(t, edge, 'bob');
  bob.onRequest('INVITE', (req) => {
    req.accept({ body: sdp(42000), contentType: 'application/sdp' });
  });
  t.equal(await registerUa(edge, bob, 'bob'), 200);
  const answered = await invite(edge, alice, `sip:bob@${edge.pbx.domain}`);
  t.equal(answered.response.status, 200);
  await answered.dialog.bye();
});
