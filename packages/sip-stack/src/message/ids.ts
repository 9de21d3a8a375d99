// Random identifiers: Via branch (RFC 3261 §8.1.1.7), tags (§19.3) and Call-IDs (§8.1.1.4).

import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** `n` cryptographically random bytes as hex, drawn from a refilled pool. */
function randomHex(n: number): string {
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const s = pool.toString('hex', offset, offset + n);
  offset += n;
  return s;
}

/** RFC 3261 §8.1.1.7: branch starting with the magic cookie "z9hG4bK". */
export function generateBranch(): string {
  return 'z9hG4bK' + randomHex(10);
}

/** RFC 3261 §19.3: at least 32 bits of randomness. */
export function generateTag(): string {
  return randomHex(6);
}

/** RFC 3261 §8.1.1.4: globally unique over space and time. */
export function generateCallId(): string {
  return randomHex(16);
}
