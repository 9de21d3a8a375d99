import t from 'tap';
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { connect as netConnect } from 'node:net';
import { createResponse } from '../../src/message/build-response.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { responseTarget } from '../../src/transport/via-stamping.js';
import type { ListenSpec } from '../../src/transport/transport.js';
import { AsyncQueue, collect, parseRequestText, sipRequest } from '../support/sip-peers.js';
import { generateTestCerts } from '../support/tls-certs.js';

const certs = generateTestCerts(['ws.example.test']);
t.teardown(() => certs.cleanup());
const wsCert = certs.get('ws.example.test');

interface WsPeer {
  ws: WebSocket;
  frames: AsyncQueue<{ text: string; binary: boolean }>;
}

async function wsPeer(url: string, protocols: string[] | undefined): Promise<WsPeer> {
  const ws = new WebSocket(url, protocols, { ca: wsCert.cert });
  const frames = new AsyncQueue<{ text: string; binary: boolean }>();
  ws.on('message', (data: RawData, binary: boolean) =>
    frames.push({ text: Buffer.from(data as Buffer).toString(), binary }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames };
}

function wsUrl(scheme: 'ws' | 'wss', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}/`;
}

const variants: [scheme: 'ws' | 'wss', host: string][] = [
  ['ws', '127.0.0.1'],
  ['ws', '::1'],
  ['wss', '127.0.0.1'],
];

for (const [scheme, host] of variants) {
  t.test(
    `${scheme.toUpperCase()} ${host}: subprotocol sip is echoed, one message per frame, the response comes back as a text frame`,
    async (t) => {
      const tl = new TransportLayer();
      t.teardown(() => tl.close());
      const spec: ListenSpec = { protocol: scheme, address: host, port: 0 };
      if (scheme === 'wss') spec.tls = { certFile: wsCert.certFile, keyFile: wsCert.keyFile };
      const lp = await tl.listen(spec);
      const inbox = collect(tl);
      const peer = await wsPeer(wsUrl(scheme, host, lp.local.port), ['sip']);
      t.teardown(() => peer.ws.terminate());
      t.equal(peer.ws.protocol, 'sip', 'RFC 7118 §4.1: the server echoes the subprotocol');

      // RFC 7118 §5: Via transport WS/WSS, sent-by an .invalid host; no Content-Length needed in a frame.
      const via = `SIP/2.0/${scheme.toUpperCase()} df7jal23ls0d.invalid;branch=z9hG4bKws1;rport`;
      peer.ws.send(sipRequest({ via, callId: 'ws-text', contentLength: '' }));
      peer.ws.send(Buffer.from(sipRequest({ via, callId: 'ws-binary' })), { binary: true });
      const first = await inbox.next();
      const second = await inbox.next();
      t.same([first.message.callId, second.message.callId], ['ws-text', 'ws-binary']);
      t.equal(first.flow.protocol, scheme);
      t.equal(first.flow.flowId, second.flow.flowId, 'both frames arrive on one flow');
      t.equal(first.message.topVia?.received, host);
      t.equal(first.message.topVia?.rport, first.flow.remote.port);

      if (first.message.kind !== 'request') throw new Error('expected a request');
      await tl.send(createResponse(first.message, 200), responseTarget(first.message, first.flow));
      const frame = await peer.frames.next();
      t.equal(frame.binary, false, 'a UTF-8 message goes as a text frame');
      t.match(frame.text, /^SIP\/2\.0 200 /);
      t.equal(tl.stats().received[scheme], 2);
      t.equal(tl.stats().sent[scheme], 1);
    },
  );
}

t.test(
  'WS: a handshake without the sip subprotocol, or with another one, is refused',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'ws', address: '127.0.0.1', port: 0 });
    for (const protocols of [undefined, ['chat'], ['SIP']]) {
      await t.rejects(
        wsPeer(wsUrl('ws', '127.0.0.1', lp.local.port), protocols),
        /400/,
        `offered ${JSON.stringify(protocols)}`,
      );
    }
    t.equal(tl.stats().connections.refused, 3);
    t.equal(tl.stats().connections.open, 0);
  },
);

t.test(
  'WS: garbage frames are counted, a keep-alive is answered, a broken frame closes only that flow',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'ws', address: '127.0.0.1', port: 0 });
    const inbox = collect(tl);
    const closed = new AsyncQueue<string>();
    tl.onFlowClosed((_f, reason) => closed.push(reason));
    const peer = await wsPeer(wsUrl('ws', '127.0.0.1', lp.local.port), ['sip']);
    t.teardown(() => peer.ws.terminate());
    peer.ws.send('this is not SIP');
    peer.ws.send(Buffer.from([0xff, 0x00, 0x13, 0x37]), { binary: true });
    peer.ws.send('\r\n\r\n');
    t.equal((await peer.frames.next()).text, '\r\n', 'RFC 5626 §3.5.1 pong');
    peer.ws.send(sipRequest({ callId: 'after-garbage' }));
    t.equal((await inbox.next()).message.callId, 'after-garbage');
    t.equal(tl.stats().parseErrors, 2);
    t.equal(tl.stats().dropped, 2);

    // Raw bytes that are not a valid WebSocket frame (unmasked client frame with a reserved opcode).
    const raw = netConnect({ host: '127.0.0.1', port: lp.local.port });
    raw.on('error', () => undefined);
    raw.on('data', () => undefined);
    const rawClosed = new Promise((r) => raw.on('close', r));
    raw.write(
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: sip\r\n\r\n',
    );
    raw.write(Buffer.from([0x8b, 0x05, 1, 2, 3, 4, 5]));
    t.equal(await closed.next(), 'error');
    await rawClosed;
    t.ok(tl.stats().socketErrors >= 1);
    peer.ws.send(sipRequest({ callId: 'other-flow-alive' }));
    t.equal((await inbox.next()).message.callId, 'other-flow-alive');
  },
);

t.test(
  'WS: a response to a WebSocket flow that is gone fails with SIP_ERR_FLOW_CLOSED',
  async (t) => {
    const tl = new TransportLayer();
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'ws', address: '127.0.0.1', port: 0 });
    const inbox = collect(tl);
    const closed = new AsyncQueue<string>();
    tl.onFlowClosed((_f, reason) => closed.push(reason));
    const peer = await wsPeer(wsUrl('ws', '127.0.0.1', lp.local.port), ['sip']);
    peer.ws.send(sipRequest({ via: 'SIP/2.0/WS abc.invalid;branch=z9hG4bKgone' }));
    const got = await inbox.next();
    peer.ws.close();
    t.equal(await closed.next(), 'remote');
    if (got.message.kind !== 'request') throw new Error('expected a request');
    await t.rejects(
      tl.send(createResponse(got.message, 200), responseTarget(got.message, got.flow)),
      { code: 'SIP_ERR_FLOW_CLOSED' },
    );
  },
);

t.test(
  'WS send: a layer connects out over WS with the sip subprotocol and reuses the connection',
  async (t) => {
    const server = new TransportLayer();
    const client = new TransportLayer();
    t.teardown(async () => {
      await client.close();
      await server.close();
    });
    const lp = await server.listen({ protocol: 'ws', address: '127.0.0.1', port: 0 });
    const inbox = collect(server);
    const target = { protocol: 'ws' as const, address: '127.0.0.1', port: lp.local.port };
    const f1 = await client.send(
      parseRequestText(sipRequest({ via: 'SIP/2.0/WS 0.0.0.0;branch=z9hG4bKwo1' })),
      target,
    );
    const f2 = await client.send(
      parseRequestText(sipRequest({ via: 'SIP/2.0/WS 0.0.0.0;branch=z9hG4bKwo2' })),
      target,
    );
    t.equal(f1.flowId, f2.flowId);
    t.equal((await inbox.next()).message.topVia?.transport, 'WS');
    await inbox.next();
    t.equal(server.stats().connections.accepted, 1);
  },
);

t.test(
  'WS: a message over the size limit is answered 513; a frame far over it closes the flow',
  async (t) => {
    const tl = new TransportLayer({ maxMessageSize: 1000 });
    t.teardown(() => tl.close());
    const lp = await tl.listen({ protocol: 'ws', address: '127.0.0.1', port: 0 });
    collect(tl);
    const closed = new AsyncQueue<string>();
    tl.onFlowClosed((_f, reason) => closed.push(reason));
    const peer = await wsPeer(wsUrl('ws', '127.0.0.1', lp.local.port), ['sip']);
    t.teardown(() => peer.ws.terminate());
    peer.ws.send(sipRequest({ method: 'MESSAGE', callId: 'big', body: 'b'.repeat(1200) }));
    const frame = await peer.frames.next();
    t.match(frame.text, /^SIP\/2\.0 513 /);
    t.match(frame.text, /Call-ID: big/);
    peer.ws.send(sipRequest({ method: 'MESSAGE', body: 'c'.repeat(5000) }));
    t.equal(await closed.next(), 'too-large');
    t.equal(tl.stats().tooLarge, 2);
  },
);
