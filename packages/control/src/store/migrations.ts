import type { Database } from 'better-sqlite3';
import { MIGRATION_0001 } from './migrations/0001-initial.js';

export interface Migration {
  /** Numbered, strictly increasing, never reused. */
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'initial schema', sql: MIGRATION_0001 },
]);

export interface MigrationReport {
  from: number;
  to: number;
  applied: readonly string[];
}

/** Current schema version (0 for an empty database). */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Apply every migration newer than the database, each in its own transaction, recording the
 * version in `PRAGMA user_version` inside the same transaction so a crash leaves no half step.
 */
export function migrate(
  db: Database,
  migrations: readonly Migration[] = MIGRATIONS,
): MigrationReport {
  const from = schemaVersion(db);
  const latest = migrations.at(-1)?.version ?? 0;
  if (from > latest) {
    throw new Error(
      `database schema version ${from} is newer than this program (${latest}); upgrade switchboard`,
    );
  }
  const applied: string[] = [];
  for (const m of migrations) {
    if (m.version <= from) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(`${m.version} ${m.name}`);
  }
  return { from, to: schemaVersion(db), applied };
}
