#!/usr/bin/env node
// Memory and CPU of the transaction layer and of digest challenges, in process (no sockets):
// `count` REGISTER server transactions, each answered with a 401 challenge and kept in Completed
// (Timer J, 32 s) as a UDP server would keep them. Prints heap bytes per completed transaction
// and µs per request (parse + transaction + challenge + serialise).
//
//   npm run build && node --expose-gc bench/sip/profile-transactions.mjs [--count 20000]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const stack = await import(
  pathToFileURL(path.join(HERE, '..', '..', 'packages', 'sip-stack', 'dist', 'index.js')).href
);
const { DigestServer, TransactionLayer, parseMessage } = stack;

const args = process.argv.slice(2);
const count = args.includes('--count') ? Number(args[args.indexOf('--count') + 1]) : 20000;
const gc = globalThis.gc ?? (() => {});

function register(i) {
  const user = 100000 + (i % 10000);
  return fresh(
    [
      'REGISTER sip:bench.test SIP/2.0',
      `Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-${i}-1-0;received=127.0.0.1;rport=5070`,
      'Max-Forwards: 70',
      `From: <sip:${user}@bench.test>;tag=4242SIPpTag0${i}`,
      `To: <sip:${user}@bench.test>`,
      `Call-ID: ${i}-4242@127.0.0.1`,
      'CSeq: 1 REGISTER',
      `Contact: <sip:${user}@127.0.0.1:5070>`,
      'Expires: 3600',
      'User-Agent: SIPp bench',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
const mem = () => {
  const m = process.memoryUsage();
  return { heap: m.heapUsed, ext: m.external };
};

/** A Buffer of its own (like a socket's), not a slice of Node's shared pool. */
function fresh(text) {
  const b = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  b.write(text);
  return b;
}

let sent = 0;
const transport = {
  send(message) {
    message.toBuffer();
    sent++;
    return Promise.resolve({
      protocol: 'udp',
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '127.0.0.1', port: 5070 },
    });
  },
  sendBuffer() {
    sent++;
    return Promise.resolve();
  },
};
const layer = new TransactionLayer({ transport });
const digest = new DigestServer({ realm: 'bench.test', algorithms: ['MD5'] });
layer.setUser({
  onRequest: (tx, incoming) => tx.respond(digest.challengeResponse(incoming.message)),
  onStrayAck: () => {},
  onStrayResponse: () => {},
});
const flow = {
  protocol: 'udp',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 5070 },
};
const datagrams = Array.from({ length: count }, (_, i) => register(i));
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const m0 = mem();
const cpu0 = process.cpuUsage();
for (let i = 0; i < count; i++) {
  const parsed = parseMessage(datagrams[i]);
  if (!parsed.ok) throw new Error(parsed.error.reason);
  layer.receive({ message: parsed.message, flow, receivedAt: 0 });
  if (i % 500 === 0) await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setImmediate(r));
const cpu = process.cpuUsage(cpu0);
gc();
await new Promise((r) => setTimeout(r, 50));
gc();
const m1 = mem();
const stats = layer.stats();
console.log(
  `${count} REGISTER → 401, ${stats.serverTransactions} completed transactions held, ${sent} sent`,
);
console.log(
  `CPU ${((cpu.user + cpu.system) / count).toFixed(1)} µs/request; per completed transaction: ` +
    `heap ${((m1.heap - m0.heap) / count).toFixed(0)} B + external ${((m1.ext - m0.ext) / count).toFixed(0)} B`,
);
layer.dispose();
