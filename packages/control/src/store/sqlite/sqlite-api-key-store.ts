import type { Database, Statement } from 'better-sqlite3';
import { newId } from '../../util/ids.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { ApiKeyPrincipal, ApiKeyStore } from '../api-key-store.js';
import { SCOPES } from '../table-spec.js';
import type { Scope } from '../table-spec.js';
import { generateApiKey, hashApiKey } from './write-hooks.js';

interface KeyRow {
  id: string;
  account_id: string;
  scopes: string;
  last_used_at: number | null;
}

/** Seconds between `last_used_at` writes for one key (keeps verification read-mostly). */
const TOUCH_EVERY_SEC = 60;

export class SqliteApiKeyStore implements ApiKeyStore {
  #clock: WallClock;
  #find: Statement<[string], KeyRow>;
  #touch: Statement;
  #insert: Statement;

  constructor(db: Database, clock: WallClock) {
    this.#clock = clock;
    this.#find = db.prepare(`SELECT k.id, k.account_id, k.scopes, k.last_used_at FROM api_key k
                             JOIN account a ON a.id = k.account_id
                             WHERE k.key_hash = ? AND k.status = 'active' AND a.status = 'active'`);
    this.#touch = db.prepare('UPDATE api_key SET last_used_at = ? WHERE id = ?');
    this.#insert =
      db.prepare(`INSERT INTO api_key (id, account_id, name, key_hash, key_hint, scopes, created_at, updated_at)
                               VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  }

  verify(key: string): Promise<ApiKeyPrincipal | undefined> {
    if (!key.startsWith('sk_') || key.length > 200) return Promise.resolve(undefined);
    const row = this.#find.get(hashApiKey(key));
    if (row === undefined) return Promise.resolve(undefined);
    const now = Math.floor(this.#clock.nowMs() / 1000);
    if (row.last_used_at === null || now - row.last_used_at >= TOUCH_EVERY_SEC)
      this.#touch.run(now, row.id);
    const scopes = row.scopes
      .split(' ')
      .filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
    return Promise.resolve({ keyId: row.id, accountId: row.account_id, scopes });
  }

  create(
    accountId: string,
    name: string,
    scopes: readonly Scope[],
  ): Promise<{ id: string; key: string }> {
    const id = newId('key');
    const key = generateApiKey();
    const now = Math.floor(this.#clock.nowMs() / 1000);
    this.#insert.run(
      id,
      accountId,
      name,
      hashApiKey(key),
      key.slice(0, 10),
      scopes.join(' '),
      now,
      now,
    );
    return Promise.resolve({ id, key });
  }
}
