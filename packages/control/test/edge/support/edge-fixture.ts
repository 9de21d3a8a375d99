/** A switchboard server on 127.0.0.1 (ephemeral ports, temp data dir) and demo UAs for it. */
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEndpoint, type SipEndpoint } from '@switchboard/sip-stack';
import { loadConfig } from '../../../src/cli/config.js';
import {
  startSwitchboard,
  type RunningSwitchboard,
} from '../../../src/server/switchboard-server.js';

export const DOMAIN = 'demo.switchboard.test';

export interface EdgeFixture {
  server: RunningSwitchboard;
  sipPort: number;
  passwords: Record<string, string>;
  dataDir: string;
  close(): Promise<void>;
}

/** An even port range below the ephemeral range, different per run (relay shared mode advice). */
function relayRange(): { min: number; max: number } {
  const min = 20000 + 200 * Math.floor(Math.random() * 40);
  return { min, max: min + 199 };
}

export async function startEdgeFixture(
  mediaMode = 'always',
  extraFlags: Record<string, string> = {},
): Promise<EdgeFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-edge-'));
  const range = relayRange();
  const config = loadConfig({
    env: {},
    flags: {
      '--data-dir': dataDir,
      '--host': '127.0.0.1',
      '--port': '0',
      '--log-level': 'silent',
      '--sip-host': '127.0.0.1',
      '--sip-udp-port': '0',
      '--sip-tcp-port': '0',
      '--sip-ws-port': 'off',
      '--media-mode': mediaMode,
      '--rtp-min': String(range.min),
      '--rtp-max': String(range.max),
      ...extraFlags,
    },
  });
  if (!config.ok) throw new Error(config.error.message);
  let printed = '';
  const server = await startSwitchboard(config.value, { print: (s) => (printed += s) });
  const passwords: Record<string, string> = {};
  for (const m of printed.matchAll(/user (\d+)\s+password (\S+)/g))
    passwords[m[1] as string] = m[2] as string;
  const udp = server.edge?.node?.listeningPoints().find((lp) => lp.protocol === 'udp');
  if (udp === undefined) throw new Error('SIP edge has no UDP listening point');
  return {
    server,
    sipPort: udp.local.port,
    passwords,
    dataDir,
    async close() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function demoUa(user: string, password: string): Promise<SipEndpoint> {
  return createEndpoint({
    listen: [{ protocol: 'udp', address: '127.0.0.1', port: 0 }],
    contactUser: user,
    from: `<sip:${user}@${DOMAIN}>`,
    credentials: { username: user, password },
  });
}

export function register(ua: SipEndpoint, user: string, sipPort: number, password?: string) {
  return ua.request({
    method: 'REGISTER',
    uri: `sip:${DOMAIN}`,
    from: `<sip:${user}@${DOMAIN}>`,
    to: `<sip:${user}@${DOMAIN}>`,
    target: { protocol: 'udp', address: '127.0.0.1', port: sipPort },
    headers: { Expires: '300' },
    ...(password === undefined ? {} : { credentials: { username: user, password } }),
  });
}

export function sdpFor(user: string, port: number): string {
  return (
    `v=0\r\no=${user} 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n` +
    `m=audio ${port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`
  );
}

/** c= address and m= port of the first stream of an SDP body. */
export function sdpAddress(sdp: string): { address: string; port: number } {
  const address = /c=IN IP[46] (\S+)/.exec(sdp)?.[1] ?? '';
  const port = Number(/m=audio (\d+)/.exec(sdp)?.[1] ?? '0');
  return { address, port };
}

export async function rtpSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  return s;
}

export function rtpPacket(seq: number): Buffer {
  const p = Buffer.alloc(12 + 160, 0xff);
  p[0] = 0x80; // RFC 3550 §5.1: version 2
  p[1] = 0; // PCMU
  p.writeUInt16BE(seq & 0xffff, 2);
  p.writeUInt32BE(seq * 160, 4);
  p.writeUInt32BE(0x1234abcd, 8);
  return p;
}
