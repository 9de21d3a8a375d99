import t from 'tap';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
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

    await t.test(
      'an INVITE without credentials gets a 407 that is not retransmitted; the same INVITE again gets the same 407 (RFC 3261 §26.3.2.4)',
      async (t) => {
        const sock = createSocket('udp4');
        t.teardown(() => sock.close());
        sock.bind(0, '127.0.0.1');
        await once(sock, 'listening');
        const got: Buffer[] = [];
        sock.on('message', (b) => got.push(b));
        const port = sock.address().port;
        const via = `SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bKnocreds1;rport`;
        const lines = (method: string, toTag: string) =>
          [
            `${method} sip:1002@${DOMAIN} SIP/2.0`,
            `Via: ${via}`,
            'Max-Forwards: 70',
            `From: <sip:1001@${DOMAIN}>;tag=nc1`,
            `To: <sip:1002@${DOMAIN}>${toTag === '' ? '' : `;tag=${toTag}`}`,
            'Call-ID: no-credentials-1',
            `CSeq: 1 ${method}`,
            `Contact: <sip:1001@127.0.0.1:${port}>`,
            'Content-Length: 0',
            '',
            '',
          ].join('\r\n');
        const invite = lines('INVITE', '');
        const waitFor = async (n: number) => {
          for (let i = 0; i < 400 && got.length < n; i++)
            await new Promise((r) => setTimeout(r, 5));
        };
        sock.send(invite, fx.sipPort, '127.0.0.1');
        await waitFor(1);
        const first = got[0]?.toString('latin1') ?? '';
        t.match(first, /^SIP\/2\.0 407 /);
        // Timer G would have resent it after T1 (500 ms).
        await new Promise((r) => setTimeout(r, 1200));
        t.equal(got.length, 1, 'not retransmitted');
        sock.send(invite, fx.sipPort, '127.0.0.1');
        await waitFor(2);
        t.equal(got[1]?.toString('latin1'), first, 'the retransmitted INVITE gets the same 407');
        const toTag = /^To:.*;tag=([^;\r\n]+)/im.exec(first)?.[1] ?? '';
        t.not(toTag, '');
        sock.send(lines('ACK', toTag), fx.sipPort, '127.0.0.1');
        await new Promise((r) => setTimeout(r, 300));
        t.equal(got.length, 2, 'the ACK is absorbed');
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
