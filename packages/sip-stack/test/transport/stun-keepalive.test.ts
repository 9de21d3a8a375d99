import t from 'tap';
import { randomBytes } from 'node:crypto';
import { stunBindingResponse } from '../../src/transport/stun-keepalive.js';
import { TransportLayer } from '../../src/transport/transport-layer.js';
import { collect, udpPeer } from '../support/sip-peers.js';

function bindingRequest(): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt32BE(0x2112a442, 4);
  randomBytes(12).copy(b, 8);
  return b;
}

/** Decodes XOR-MAPPED-ADDRESS independently of the encoder (RFC 5389 §15.2). */
function mappedAddress(resp: Buffer): { address: string; port: number } {
  t.equal(resp.readUInt16BE(0), 0x0101, 'Binding success response');
  t.equal(resp.readUInt16BE(20), 0x0020, 'XOR-MAPPED-ADDRESS');
  const family = resp[25];
  const port = resp.readUInt16BE(26) ^ 0x2112;
  const key = resp.subarray(4, 20);
  const raw = Buffer.from(
    resp.subarray(28, 28 + (family === 1 ? 4 : 16)).map((b, i) => b ^ key[i]!),
  );
  if (family === 1) return { address: [...raw].join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return { address: groups.join(':'), port };
}

t.test(
  'STUN: a Binding request is answered with the XOR-mapped source address (RFC 5626 §4.4.2)',
  (t) => {
    const req = bindingRequest();
    const v4 = stunBindingResponse(req, { address: '192.0.2.33', port: 61000 })!;
    t.same(v4.subarray(8, 20), req.subarray(8, 20), 'transaction id echoed');
    t.same(mappedAddress(v4), { address: '192.0.2.33', port: 61000 });
    const v6 = stunBindingResponse(req, { address: '2001:db8::5', port: 7 })!;
    t.same(mappedAddress(v6), { address: '2001:db8:0:0:0:0:0:5', port: 7 });
    const notBinding = Buffer.from(req);
    notBinding.writeUInt16BE(0x0111, 0);
    t.equal(stunBindingResponse(notBinding, { address: '192.0.2.1', port: 1 }), undefined);
    t.end();
  },
);

t.test('STUN over the UDP listening point: answered, not parsed as SIP', async (t) => {
  const tl = new TransportLayer();
  t.teardown(() => tl.close());
  const lp = await tl.listen({ protocol: 'udp', address: '127.0.0.1', port: 0 });
  collect(tl);
  const peer = await udpPeer();
  t.teardown(() => peer.close());
  await peer.send(bindingRequest(), lp.local.port);
  const resp = await peer.received.next();
  t.same(mappedAddress(resp), { address: '127.0.0.1', port: peer.port });
  t.equal(tl.stats().parseErrors, 0);
  t.equal(tl.stats().keepAlivesAnswered, 1);
});
