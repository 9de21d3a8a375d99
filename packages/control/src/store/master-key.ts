import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, ok } from '../errors/ctl-errors.js';
import type { Result } from '../errors/ctl-errors.js';

export const MASTER_KEY_ENV = 'SWITCHBOARD_MASTER_KEY';
export const MASTER_KEY_FILE = 'master.key';

export interface MasterKey {
  /** 32 bytes for AES-256-GCM. */
  readonly key: Buffer;
  /** Short fingerprint stored beside each ciphertext so a key change is detected, not misread. */
  readonly id: string;
  readonly source: 'env' | 'file' | 'created';
}

/** Parse 64 hex characters or base64 of 32 bytes. */
export function parseMasterKey(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  if (/^[A-Za-z0-9+/]{43}=?$/.test(t)) {
    const b = Buffer.from(t, 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * The master key: from the environment variable when set, else the key file in the data
 * directory, created (mode 0600) on first start. A malformed key is a configuration error naming
 * where it came from.
 */
export function loadMasterKey(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Result<MasterKey> {
  const fromEnv = env[MASTER_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const key = parseMasterKey(fromEnv);
    if (key === undefined) {
      return fail(
        'CTL_ERR_CONFIG',
        `${MASTER_KEY_ENV} must be 64 hex characters or base64 of 32 bytes`,
        MASTER_KEY_ENV,
      );
    }
    return ok({ key, id: keyId(key), source: 'env' });
  }
  if (dataDir === ':memory:') {
    const key = randomBytes(32);
    return ok({ key, id: keyId(key), source: 'created' });
  }
  const file = join(dataDir, MASTER_KEY_FILE);
  if (existsSync(file)) {
    const key = parseMasterKey(readFileSync(file, 'utf8'));
    if (key === undefined)
      return fail('CTL_ERR_CONFIG', `${file}: not a valid master key (64 hex characters)`, file);
    return ok({ key, id: keyId(key), source: 'file' });
  }
  mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return ok({ key, id: keyId(key), source: 'created' });
}
