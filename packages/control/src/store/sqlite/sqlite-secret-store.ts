import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Database, Statement } from 'better-sqlite3';
import { newId } from '../../util/ids.js';
import type { WallClock } from '../../util/wall-clock.js';
import type { MasterKey } from '../master-key.js';
import type { SecretStore } from '../secret-store.js';

interface SecretRow {
  key_id: string;
  iv: Buffer;
  tag: Buffer;
  ciphertext: Buffer;
}

/** AES-256-GCM secrets in the `secret` table. The row id is the additional authenticated data. */
export class SqliteSecretStore implements SecretStore {
  #key: MasterKey;
  #clock: WallClock;
  #insert: Statement;
  #select: Statement<[string], SecretRow>;
  #delete: Statement;

  constructor(db: Database, key: MasterKey, clock: WallClock) {
    this.#key = key;
    this.#clock = clock;
    this.#insert = db.prepare(
      'INSERT INTO secret (id, account_id, key_id, iv, tag, ciphertext, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.#select = db.prepare('SELECT key_id, iv, tag, ciphertext FROM secret WHERE id = ?');
    this.#delete = db.prepare('DELETE FROM secret WHERE id = ?');
  }

  put(accountId: string | null, plaintext: string): Promise<string> {
    return Promise.resolve(this.putSync(accountId, plaintext));
  }

  get(ref: string): Promise<string | undefined> {
    return Promise.resolve(this.getSync(ref));
  }

  delete(ref: string): Promise<void> {
    this.deleteSync(ref);
    return Promise.resolve();
  }

  /** Synchronous form, for use inside a SQLite transaction. */
  putSync(accountId: string | null, plaintext: string): string {
    const ref = newId('sec');
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key.key, iv);
    cipher.setAAD(Buffer.from(ref));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const now = Math.floor(this.#clock.nowMs() / 1000);
    this.#insert.run(ref, accountId, this.#key.id, iv, tag, ciphertext, now);
    return ref;
  }

  getSync(ref: string): string | undefined {
    const row = this.#select.get(ref);
    if (row === undefined || row.key_id !== this.#key.id) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key.key, row.iv);
      decipher.setAAD(Buffer.from(ref));
      decipher.setAuthTag(row.tag);
      return Buffer.concat([decipher.update(row.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      return undefined; // authentication failed: tampered row or wrong key
    }
  }

  deleteSync(ref: string): void {
    this.#delete.run(ref);
  }
}
