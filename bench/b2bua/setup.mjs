// What both B2BUA benchmark scripts set up: free loopback ports and the SIPp callers file.
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const PREFIX = '1555';
/** The trunk number every caller dials (the outbound route takes the prefix). */
export const NUMBER = `${PREFIX}0009999`;
/** Relay ports of the targets (one runs at a time), below the ephemeral range. */
export const RTP = { min: 10000, max: 29999 };

export async function freePort() {
  const s = createSocket('udp4');
  await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The SIP, HTTP, UAS, UAC and ng ports of one target run. */
export async function freePorts() {
  return {
    port: await freePort(),
    httpPort: await freePort(),
    uasPort: await freePort(),
    uacPort: await freePort(),
    ngPort: await freePort(),
  };
}

/** Callers: `caller;domain;[authentication ...];number`, every one dialling the trunk number. */
export function writeCallers(dir, users, domain) {
  const lines = users.map(
    (u) =>
      `${u.username};${domain};[authentication username=${u.username} password=${u.password}];${NUMBER}`,
  );
  const file = path.join(dir, 'uac.csv');
  writeFileSync(file, `SEQUENTIAL\n${lines.join('\n')}\n`);
  return file;
}
