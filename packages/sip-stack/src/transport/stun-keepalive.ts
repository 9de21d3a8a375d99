/**
 * RFC 5626 §4.4.2 keep-alives over UDP: a STUN Binding request (RFC 5389) arriving on a SIP port
 * is answered with a Binding success response carrying XOR-MAPPED-ADDRESS, so the client learns
 * its public address and can tell when its flow changed.
 */
import { isIP } from 'node:net';
import type { Endpoint } from './transport.js';

const MAGIC_COOKIE = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const XOR_MAPPED_ADDRESS = 0x0020;

/** A STUN message header (first two bits zero, magic cookie) of any type. */
export function isStunMessage(bytes: Buffer): boolean {
  return (
    bytes.length >= 20 &&
    ((bytes[0] ?? 0xff) & 0xc0) === 0 &&
    bytes.readUInt32BE(4) === MAGIC_COOKIE
  );
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail] = address.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16) || 0, i * 2));
  return out;
}

/** The Binding success response for a Binding request from `remote`, or undefined for anything else. */
export function stunBindingResponse(request: Buffer, remote: Endpoint): Buffer | undefined {
  if (!isStunMessage(request) || request.readUInt16BE(0) !== BINDING_REQUEST) return undefined;
  if (request.readUInt16BE(2) !== request.length - 20) return undefined;
  const family = isIP(remote.address);
  if (family === 0 || (family === 6 && remote.address.includes('.'))) return undefined;
  const addrLen = family === 4 ? 4 : 16;
  const out = Buffer.alloc(20 + 4 + 4 + addrLen);
  out.writeUInt16BE(BINDING_SUCCESS, 0);
  out.writeUInt16BE(4 + 4 + addrLen, 2);
  request.copy(out, 4, 4, 20); // magic cookie and transaction id
  out.writeUInt16BE(XOR_MAPPED_ADDRESS, 20);
  out.writeUInt16BE(4 + addrLen, 22);
  out.writeUInt8(family === 4 ? 0x01 : 0x02, 25);
  out.writeUInt16BE(remote.port ^ (MAGIC_COOKIE >>> 16), 26);
  const addr =
    family === 4 ? Buffer.from(remote.address.split('.').map(Number)) : ipv6Bytes(remote.address);
  // RFC 5389 §15.2: the address is XORed with the cookie (and, for IPv6, the transaction id).
  for (let i = 0; i < addrLen; i++) out[28 + i] = (addr[i] ?? 0) ^ (request[4 + i] ?? 0);
  return out;
}
