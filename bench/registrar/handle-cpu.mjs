#!/usr/bin/env node
// CPU time of Registrar.handle per REGISTER: refreshes of `--users` AORs round robin (one binding
// each, an authenticator that accepts at once and attaches an identity, the in-memory location
// service). Messages are parsed before the timed part, so the numbers are the registrar's work
// (plus the lazy parsing of the headers it reads). Median and best of `--rounds` batches.
//
//   npm run build && node bench/registrar/handle-cpu.mjs [--users 10000] [--batch 2000] [--rounds 30]
import { parseMessage } from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar } from '@switchboard/registrar';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const USERS = arg('--users', 10000);
const BATCH = arg('--batch', 2000);
const ROUNDS = arg('--rounds', 30);

function register(n, cseq) {
  const u = n % USERS;
  const user = String(1000000 + u);
  const text =
    `REGISTER sip:bench.test SIP/2.0\r\n` +
    `Via: SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bK-${n}-${cseq};rport;received=127.0.0.1\r\n` +
    `Max-Forwards: 70\r\n` +
    `From: <sip:${user}@bench.test>;tag=4242SIPpTag0${n}\r\n` +
    `To: <sip:${user}@bench.test>\r\n` +
    `Call-ID: ${u}-4242@127.0.0.1\r\n` +
    `CSeq: ${cseq} REGISTER\r\n` +
    `Contact: <sip:${user}@127.0.0.1:5999>\r\n` +
    `Expires: 3600\r\nUser-Agent: SIPp bench\r\nContent-Length: 0\r\n\r\n`;
  const r = parseMessage(Buffer.from(text));
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
}

const flow = {
  protocol: 'udp',
  local: { address: '127.0.0.1', port: 5060 },
  remote: { address: '127.0.0.1', port: 5999 },
  flowId: 'udp:127.0.0.1:5060->127.0.0.1:5999',
};
const authenticator = {
  authenticate(request) {
    const user = request.to.uri.slice(4, request.to.uri.indexOf('@'));
    return Promise.resolve({
      ok: true,
      identity: {
        username: user,
        realm: 'bench.test',
        attributes: { accountId: 'acc', userId: `usr_${user}`, deviceId: `dev_${user}` },
      },
    });
  },
};
const location = new MemoryLocationService();
const registrar = new Registrar({ location, authenticator, maxBindingsPerAor: 10 });
let n = 0;
const perRegister = [];
for (let r = 0; r < ROUNDS; r++) {
  const batch = [];
  for (let i = 0; i < BATCH; i++, n++) batch.push(register(n, 1 + Math.floor(n / USERS)));
  const c0 = process.cpuUsage();
  for (const request of batch) {
    const res = await registrar.handle(request, flow);
    if (res.status !== 200) throw new Error(`REGISTER: ${res.status} ${res.reason}`);
  }
  const c = process.cpuUsage(c0);
  perRegister.push((c.user + c.system) / BATCH);
}
perRegister.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    registers: n,
    cpuUsPerRegisterMedian: +perRegister[perRegister.length >> 1].toFixed(2),
    cpuUsPerRegisterBest: +perRegister[0].toFixed(2),
  }),
);
registrar.close();
await location.close();
