import { randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/** Type prefixes of every id the control plane issues (`acc_01J...`). */
export const ID_PREFIXES = Object.freeze({
  account: 'acc',
  sip_domain: 'dom',
  sip_user: 'us',
  sip_device: 'dev',
  did: 'did',
  extension: 'ext',
  queue: 'q',
  agent_queue_assignment: 'aqa',
  ring_group: 'rg',
  ring_group_member: 'rgm',
  sip_trunk: 'tr',
  voicemail: 'vm',
  call_flow: 'flow',
  time_schedule: 'sch',
  time_schedule_rule: 'schr',
  outbound_route: 'route',
  media_file: 'media',
  call_limit: 'lim',
  rate: 'rate',
  call_cdr: 'call',
  call_event: 'cev',
  api_key: 'key',
  webhook: 'wh',
  webhook_delivery: 'whd',
  secret: 'sec',
  wallet_txn: 'wtx',
} as const);

export type IdPrefix = (typeof ID_PREFIXES)[keyof typeof ID_PREFIXES];

const POOL_BYTES = 4096;
const pool = new Uint8Array(POOL_BYTES);
let poolAt = POOL_BYTES;

/**
 * ulid's default PRNG asks the OS for one byte per character (16 calls per id); ids need
 * uniqueness, not secrecy, so bytes come from a pooled buffer refilled 4 KiB at a time.
 * A byte / 256 is uniform over ulid's 32-letter alphabet (256 is a multiple of 32).
 */
function pooledRandom(): number {
  if (poolAt >= POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return (pool[poolAt++] ?? 0) / 256;
}

const nextUlid = monotonicFactory(pooledRandom);

/** A new id: prefix, underscore, monotonic ULID (sorts by creation time). */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${nextUlid()}`;
}

const ID_SHAPE = /^[a-z]{1,6}_[0-9A-HJKMNP-TV-Z]{26}$/;

/** True when `value` is an id with the given prefix (shape only; existence is checked by the store). */
export function isIdOf(prefix: IdPrefix, value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(`${prefix}_`) && ID_SHAPE.test(value);
}
