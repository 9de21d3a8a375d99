#!/usr/bin/env node
// Memory per registered contact in the in-memory location service, the way the edge fills it:
// real REGISTER messages (a realistic Via, Contact, Call-ID, User-Agent) parsed by the SIP stack
// and handled by the Registrar, one binding per AOR. The authenticator accepts every REGISTER
// and attaches the identity the edge's digest authenticator attaches (username, realm and the
// control plane's account/user/device ids, as fresh strings per request): digest itself keeps
// nothing per binding.
//
//   npm run build && node --expose-gc bench/registrar/memory.mjs [--contacts 100000]
//       [--identity fresh|shared|none]
//
// --identity: fresh (default, conservative) = new id strings per binding; shared = the id strings
// are the directory cache's (only the identity objects count); none = no authenticator.
//
// Reports V8 heap used per binding (after full GCs, messages dropped) and RSS growth per binding.
// Target (issue): under 1 KiB per contact at 100,000 contacts.
import { parseMessage } from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar } from '@switchboard/registrar';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : process.argv[i + 1];
};
const N = Number(arg('--contacts', 100000));
const IDENTITY = arg('--identity', 'fresh');
if (!['fresh', 'shared', 'none'].includes(IDENTITY))
  throw new Error('--identity fresh|shared|none');
const directory = new Map(); // what a directory cache would hold anyway (shared mode)
if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc');
  process.exit(2);
}

function register(n) {
  const user = String(1000000 + n);
  const port = 10000 + (n % 50000);
  const host = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
  const text =
    `REGISTER sip:bench.test SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP ${host}:${port};branch=z9hG4bK${n.toString(36)}x${Date.now().toString(36)};rport\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:${user}@bench.test>;tag=${(n * 7919).toString(16)}\r\n` +
    `To: <sip:${user}@bench.test>\r\n` +
    `Call-ID: ${(n * 104729).toString(16)}-${n}@${host}\r\n` +
    `CSeq: 2 REGISTER\r\n` +
    `Contact: <sip:${user}@${host}:${port};transport=udp>;expires=3600\r\n` +
    `User-Agent: Yealink SIP-T46S 66.86.0.15\r\n` +
    `Content-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.error.reason);
  const flow = {
    protocol: 'udp',
    local: { address: '10.0.0.1', port: 5060 },
    remote: { address: host, port },
    flowId: `udp:10.0.0.1:5060->${host}:${port}`,
  };
  return { request: r.message, flow };
}

async function fill(registrar, from, to) {
  for (let n = from; n < to; n++) {
    const { request, flow } = register(n);
    const res = await registrar.handle(request, flow);
    if (res.status !== 200) throw new Error(`REGISTER ${n}: ${res.status}`);
  }
}

function settle() {
  for (let k = 0; k < 4; k++) globalThis.gc();
  const m = process.memoryUsage();
  return { heap: m.heapUsed + m.external + m.arrayBuffers, rss: m.rss };
}

const location = new MemoryLocationService();
/** Like the edge's BrainRegistrarAuthenticator after a successful digest check. */
const authenticator = {
  authenticate(request) {
    const user = /sip:([^@]+)@/.exec(request.headers.get('To') ?? '')?.[1] ?? '';
    let ids = {
      accountId: 'acc_01M7YN9BTVTHGT3R8WCCZPND3W',
      userId: `usr_01M7YN9C${user.padStart(18, '0')}`,
      deviceId: `dev_01M7YN9C${user.padStart(18, '0')}`,
    };
    if (IDENTITY === 'shared') {
      if (!directory.has(user)) directory.set(user, ids);
      ids = directory.get(user);
    }
    return Promise.resolve({
      ok: true,
      identity: {
        username: `${user}`,
        realm: 'bench.test',
        attributes: { accountId: ids.accountId, userId: ids.userId, deviceId: ids.deviceId },
      },
    });
  },
};
const registrar = new Registrar({
  location,
  ...(IDENTITY === 'none' ? {} : { authenticator }),
  maxBindingsPerAor: 10,
});
await fill(registrar, 0, 1000); // warm up: code, shapes, maps' first growth
const before = settle();
if (IDENTITY === 'shared')
  for (let n = 1000; n < 1000 + N; n++) await authenticator.authenticate(register(n).request);
const before2 = IDENTITY === 'shared' ? settle() : before;
await fill(registrar, 1000, 1000 + N);
const after = settle();
const count = await location.count();
const perHeap = (after.heap - before2.heap) / N;
const perRss = (after.rss - before2.rss) / N;
console.log(
  JSON.stringify({
    contacts: count,
    identity: IDENTITY,
    heapBytesPerContact: Math.round(perHeap),
    rssBytesPerContact: Math.round(perRss),
    heapMiB: +(after.heap / 2 ** 20).toFixed(1),
    targetBytes: 1024,
    met: perHeap < 1024,
  }),
);
registrar.close();
await location.close();
