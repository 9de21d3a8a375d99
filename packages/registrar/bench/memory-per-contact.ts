/**
 * Heap used per registered contact in the in-memory location service (target: under 1 KiB at
 * 100,000 contacts). Each contact goes through Registrar.handle like a real REGISTER over UDP
 * from behind a NAT. Run: node --expose-gc --import tsx bench/memory-per-contact.ts [count]
 */
import { ManualClock, parseMessage, type Flow } from '@switchboard/sip-stack';
import { MemoryLocationService, Registrar } from '../src/index.js';

const count = Number(process.argv[2] ?? '100000');
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with node --expose-gc');

function register(i: number): { request: ReturnType<typeof parse>; flow: Flow } {
  const user = String(100000 + i);
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const text =
    `REGISTER sip:a.example SIP/2.0\r\nVia: SIP/2.0/UDP ${ip}:5060;branch=z9hG4bK${i};rport\r\n` +
    `From: <sip:${user}@a.example>;tag=${i}\r\nTo: <sip:${user}@a.example>\r\nCall-ID: reg-${i}@${ip}\r\n` +
    `CSeq: 1 REGISTER\r\nContact: <sip:${user}@${ip}:5060;transport=udp>;expires=3600\r\n` +
    `User-Agent: Phone/1.0\r\nContent-Length: 0\r\n\r\n`;
  const flow: Flow = {
    protocol: 'udp',
    local: { address: '192.0.2.1', port: 5060 },
    remote: { address: `198.51.${(i >> 8) & 255}.${i & 255}`, port: 20000 + (i % 40000) },
    flowId: `udp:192.0.2.1:5060->198.51.${(i >> 8) & 255}.${i & 255}:${20000 + (i % 40000)}`,
  };
  return { request: parse(text), flow };
}

function parse(text: string) {
  const r = parseMessage(Buffer.from(text));
  if (!r.ok || r.message.kind !== 'request') throw new Error('bad fixture');
  return r.message;
}

const clock = new ManualClock(1_700_000_000_000);
const location = new MemoryLocationService({ clock });
const registrar = new Registrar({ location, clock });
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < count; i++) {
  const { request, flow } = register(i);
  const res = await registrar.handle(request, flow);
  if (res.status !== 200) throw new Error(`REGISTER ${i} got ${res.status}`);
}
gc();
const after = process.memoryUsage().heapUsed;
console.log(
  JSON.stringify({
    contacts: await location.count(),
    bytesPerContact: Math.round((after - before) / count),
  }),
);
await location.close();
