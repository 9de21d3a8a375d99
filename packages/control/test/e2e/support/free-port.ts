/** Loopback ports that are free for both UDP and TCP right now (for peers that need a fixed `-p`). */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

function udpFree(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(port, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/** A port free on UDP and TCP (and so is port + 2, which SIPp takes for media). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await udpFree(0, host);
    if (port > 65000) continue;
    const ok =
      (await tcpFree(port, host)) &&
      (await udpFree(port + 2, host).then(
        () => true,
        () => false,
      ));
    if (ok) return port;
  }
  throw new Error('no free port found');
}
