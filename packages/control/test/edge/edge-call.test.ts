import t from 'tap';
import { EndpointError, type SipRequest } from '@switchboard/sip-stack';
import {
  DOMAIN,
  demoUa,
  register,
  rtpPacket,
  rtpSocket,
  sdpAddress,
  sdpFor,
  startEdgeFixture,
} from './support/edge-fixture.js';

t.test(
  'edge: demo users register with digest, call each other through the proxy with media on the relay',
  async (t) => {
    const fx = await startEdgeFixture('always');
    t.teardown(() => fx.close());
    const p1001 = fx.passwords['1001'];
    const p1002 = fx.passwords['1002'];
    if (p1001 === undefined || p1002 === undefined) throw new Error('demo credentials not printed');
    const a = await demoUa('1001', p1001);
    const b = await demoUa('1002', p1002);
    const rtpA = await rtpSocket();
    const rtpB = await rtpSocket();
    t.teardown(async () => {
      rtpA.close();
      rtpB.close();
      await a.close();
      await b.close();
    });
    const route = [`<sip:127.0.0.1:${fx.sipPort};lr>`];
    const call = (to: string, sdpPort: number) =>
      a.invite({
        uri: `sip:${to}@${DOMAIN}`,
        from: `<sip:1001@${DOMAIN}>`,
        route,
        body: sdpFor('1001', sdpPort),
        contentType: 'application/sdp',
        timeoutMs: 10_000,
      });
    const status = async (p: PromiseLike<unknown>): Promise<number | undefined> => {
      try {
        await p;
        return 200;
      } catch (err) {
        return err instanceof EndpointError ? err.status : undefined;
      }
    };

    await t.test('REGISTER: a wrong password gets 401 again, an unknown device 403', async (t) => {
      t.equal((await register(a, '1001', fx.sipPort, 'wrong-password')).status, 401);
      t.equal((await register(a, '1999', fx.sipPort, 'whatever-pass')).status, 403);
    });

    await t.test('INVITE to a user with no registered device is answered 480', async (t) => {
      t.equal((await register(a, '1001', fx.sipPort)).status, 200);
      t.equal(await status(call('1002', 4000)), 480);
    });

    await t.test(
      'an INVITE from a local user without credentials is challenged with 407',
      async (t) => {
        const anonymous = await demoUa('1001', 'unused-password');
        t.teardown(() => anonymous.close());
        const r = await status(
          anonymous.invite({
            uri: `sip:1002@${DOMAIN}`,
            route,
            credentials: () => undefined,
            body: sdpFor('1001', 4000),
            contentType: 'application/sdp',
          }),
        );
        t.equal(r, 407);
      },
    );

    await t.test('INVITE to a number the brain does not know is answered 404', async (t) => {
      t.equal(await status(call('1999', 4000)), 404);
    });

    await t.test('a call A → B: 407, 180, 200, media relayed, released after BYE', async (t) => {
      t.equal((await register(b, '1002', fx.sipPort)).status, 200);
      let offer = '';
      let invite: SipRequest | undefined;
      b.onRequest('INVITE', (req) => {
        invite = req.request;
        offer = req.request.body.toString('utf8');
        req.progress(180);
        req.accept({ body: sdpFor('1002', rtpB.address().port), contentType: 'application/sdp' });
      });
      const provisionals: number[] = [];
      const outgoing = a.invite({
        uri: `sip:1002@${DOMAIN}`,
        route,
        body: sdpFor('1001', rtpA.address().port),
        contentType: 'application/sdp',
        onProvisional: (r) => provisionals.push(r.status),
        timeoutMs: 10_000,
      });
      const { dialog, response } = await outgoing;
      t.equal(response.status, 200);
      t.ok(provisionals.includes(180), 'B rang');
      t.ok(invite?.headers.get('Proxy-Authorization') === undefined, 'our credentials stripped');
      const edgeCall = fx.server.edge?.node?.calls.get(response.callId);
      const media = edgeCall?.media;
      if (media === undefined) throw new Error('call not anchored');
      t.same(
        sdpAddress(offer),
        { address: '127.0.0.1', port: media.b.rtpPort },
        'B sees relay side B',
      );
      t.same(
        sdpAddress(response.body.toString('utf8')),
        { address: '127.0.0.1', port: media.a.rtpPort },
        'A sees relay side A',
      );

      const got: Buffer[] = [];
      rtpB.on('message', (m) => got.push(m));
      for (let seq = 1; seq <= 50 && got.length < 3; seq++) {
        rtpA.send(rtpPacket(seq), media.a.rtpPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 20));
      }
      t.ok(got.length >= 3, `B received RTP from A through the relay (${got.length} packets)`);
      t.equal(got[0]?.readUInt32BE(8), 0x1234abcd, 'the payload is A’s stream');

      const bye = await dialog.bye();
      t.equal(bye.status, 200);
      t.equal(fx.server.edge?.node?.calls.get(response.callId), undefined, 'call released');
      t.ok(media.closed, 'relay session closed');
      const cac = await fx.server.brain.cacStatus();
      t.equal(
        cac.accounts.reduce((n, x) => n + x.reservations, 0),
        0,
        'admission released',
      );
    });
  },
);
