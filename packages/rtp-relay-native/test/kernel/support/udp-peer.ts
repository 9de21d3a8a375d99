// Runs inside a host's namespace: one UDP socket on argv[2], port 0. Commands on stdin (JSON
// lines): {op:'send', host, port, count} and {op:'stats'}; one JSON answer line each.
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

const bindAddress = process.argv[2] ?? '0.0.0.0';
const sock = dgram.createSocket(bindAddress.includes(':') ? 'udp6' : 'udp4');
let received = 0;
const sources: Record<string, number> = {};
let seq = 0;

sock.on('message', (_msg, rinfo) => {
  received++;
  const key = `${rinfo.address}:${rinfo.port}`;
  sources[key] = (sources[key] ?? 0) + 1;
});

function packet(): Buffer {
  const b = Buffer.alloc(172, 0xd5);
  b[0] = 0x80;
  b[1] = 0;
  b.writeUInt16BE(seq++ & 0xffff, 2);
  b.writeUInt32BE(seq * 160, 4);
  b.writeUInt32BE(0x5b5b5b5b, 8);
  return b;
}

const out = (v: unknown): void => {
  process.stdout.write(`${JSON.stringify(v)}\n`);
};

async function send(host: string, port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => sock.send(packet(), port, host, () => resolve()));
    await new Promise((r) => setTimeout(r, 1));
  }
}

sock.bind(0, bindAddress, () => {
  const a = sock.address();
  out({ address: a.address, port: a.port });
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      const cmd = JSON.parse(line) as { op: string; host?: string; port?: number; count?: number };
      if (cmd.op === 'send') {
        void send(cmd.host ?? '', cmd.port ?? 0, cmd.count ?? 1).then(() => out({ op: 'sent' }));
      } else {
        out({ received, sources });
      }
    })
    .on('close', () => {
      sock.close();
      process.exit(0);
    });
});
