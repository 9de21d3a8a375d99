/**
 * Reachability of registered contacts on the edge (issue: OPTIONS qualify on an interval, CRLF
 * keep-alives on stream flows) and what the control plane hears of it: a registration or a change
 * of reachability becomes a presence event for the device that registered.
 */
import {
  OptionsQualifyClient,
  type Binding,
  type KeepAliveSender,
  type QualifyTransactions,
  type ReachabilityOptions,
} from '@switchboard/registrar';
import type { PresenceEvent } from '../brain/brain.js';
import type { EdgeOptions } from './edge-options.js';

/** The registrar's reachability options from the edge's, or undefined when both are off. */
export function reachabilityOptions(
  options: Pick<
    EdgeOptions,
    'qualifyIntervalMs' | 'keepAliveIntervalMs' | 'reachabilityFilter' | 'callId'
  >,
  transactions: QualifyTransactions,
  sender: KeepAliveSender,
): ReachabilityOptions | undefined {
  const qualifyMs = options.qualifyIntervalMs ?? 0;
  const keepAliveMs = options.keepAliveIntervalMs ?? 0;
  if (qualifyMs <= 0 && keepAliveMs <= 0) return undefined;
  const client = new OptionsQualifyClient({
    transactions,
    // replies to a cluster worker's OPTIONS come back to that worker
    ...(options.callId === undefined ? {} : { callId: options.callId }),
  });
  return {
    ...(qualifyMs > 0 ? { qualify: { client, intervalMs: qualifyMs } } : {}),
    ...(keepAliveMs > 0 ? { keepAlive: { sender, intervalMs: keepAliveMs } } : {}),
    ...(options.reachabilityFilter === undefined ? {} : { filter: options.reachabilityFilter }),
  };
}

export type DevicePresence = 'registered' | 'unregistered' | 'reachable' | 'unreachable';

/** The presence event of a binding's device, or undefined when the binding has no device ids. */
export function devicePresence(type: DevicePresence, b: Binding): PresenceEvent | undefined {
  const a = b.identity?.attributes;
  const accountId = a?.['accountId'];
  const userId = a?.['userId'];
  const deviceId = a?.['deviceId'];
  if (accountId === undefined || userId === undefined || deviceId === undefined) return undefined;
  return { type, accountId, userId, deviceId };
}
