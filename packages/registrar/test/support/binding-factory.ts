/** Bindings for the location service tests. */
import type { Binding } from '../../src/index.js';

let seq = 0;

export function makeBinding(
  over: Partial<Binding> & { aor: string; key: string },
  now = 0,
): Binding {
  seq++;
  return {
    uri: `sip:${over.key}@192.0.2.${seq % 250}:5060`,
    contact: `<sip:${over.key}@192.0.2.${seq % 250}:5060>`,
    expiresAt: now + 3600_000,
    callId: 'call-1',
    cseq: 1,
    source: {
      protocol: 'udp',
      local: { address: '127.0.0.1', port: 5060 },
      remote: { address: '192.0.2.1', port: 5060 },
    },
    outbound: false,
    registeredAt: now,
    updatedAt: now,
    ...over,
  };
}
