/** One row of the configuration table and the checks settings share (config.ts, edge-settings.ts). */
import { readFileSync, statSync } from 'node:fs';
import type { SwitchboardConfig } from './config.js';

/** One setting: its file key, environment variable and flag, and how to check it. */
export interface Setting {
  key: string;
  env: string;
  flag: string;
  /** Sets the value on the config; returns what is wrong with `raw`, if anything. */
  apply(c: SwitchboardConfig, raw: unknown): string | undefined;
}

export type Apply = Setting['apply'];

export const HOST = /^[A-Za-z0-9.:_-]+$/;

export function portNumber(raw: unknown): number | undefined {
  const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535 ? n : undefined;
}

export function onOff(raw: unknown): boolean | undefined {
  if (raw === true || raw === 'on' || raw === 'true' || raw === 'yes') return true;
  if (raw === false || raw === 'off' || raw === 'false' || raw === 'no') return false;
  return undefined;
}

/** A SIP port setting: 0–65535 (0 = ephemeral) or off. */
export function sipPort(set: (c: SwitchboardConfig, v: number | null) => void): Apply {
  return (c, raw) => {
    if (onOff(raw) === false) return (set(c, null), undefined);
    const n = portNumber(raw);
    return n === undefined ? 'must be an integer from 0 to 65535, or off' : (set(c, n), undefined);
  };
}

export function host(set: (c: SwitchboardConfig, v: string) => void): Apply {
  return (c, raw) =>
    typeof raw === 'string' && HOST.test(raw)
      ? (set(c, raw), undefined)
      : 'must be a host name or address';
}

export function rtpPort(set: (c: SwitchboardConfig, v: number) => void): Apply {
  return (c, raw) => {
    const n = portNumber(raw);
    return n === undefined || n < 1024
      ? 'must be an integer from 1024 to 65535'
      : (set(c, n), undefined);
  };
}

export function flag(set: (c: SwitchboardConfig, v: boolean) => void): Apply {
  return (c, raw) => {
    const v = onOff(raw);
    return v === undefined ? 'must be on or off' : (set(c, v), undefined);
  };
}

/** An integer of at least `min` (numbers in files, digit strings from env and flags). */
export function integer(min: number, set: (c: SwitchboardConfig, v: number) => void): Apply {
  return (c, raw) => {
    const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= min
      ? (set(c, n), undefined)
      : `must be an integer of at least ${min}`;
  };
}

/**
 * A PEM file that exists and can be read now (certificate, key, CA bundle): a server that would
 * fail its TLS listener at start-up stops at config time instead, naming the key.
 */
export function pemFile(set: (c: SwitchboardConfig, v: string) => void): Apply {
  return (c, raw) => {
    if (typeof raw !== 'string' || raw.length === 0) return 'must be a file path';
    let text: string;
    try {
      if (!statSync(raw).isFile()) return `must be a readable PEM file (${raw} is not a file)`;
      text = readFileSync(raw, 'latin1');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return `must be a readable PEM file (${raw}: ${code})`;
    }
    if (!text.includes('-----BEGIN ')) return `must be a PEM file (${raw} has no PEM block)`;
    set(c, raw);
    return undefined;
  };
}

/** A URL with one of the given schemes (`redis:`, `http:` ...). */
export function url(
  schemes: readonly string[],
  set: (c: SwitchboardConfig, v: string) => void,
): Apply {
  const expected = `must be a ${schemes.map((s) => `${s}//`).join(' or ')} URL`;
  return (c, raw) => {
    if (typeof raw !== 'string' || !URL.canParse(raw)) return expected;
    const u = new URL(raw);
    return schemes.includes(u.protocol) && u.hostname !== '' ? (set(c, raw), undefined) : expected;
  };
}
