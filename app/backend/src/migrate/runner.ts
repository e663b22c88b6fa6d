// Applies pending migrations the way `prisma migrate deploy` does, recording them in the same
// _prisma_migrations table (same columns, same checksums, same advisory lock), so a database
// migrated here can later be migrated by Prisma's CLI and the other way round.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ClientBase } from 'pg';
import { plan, type AppliedMigration, type LocalMigration } from './migrations.js';

// Prisma's advisory lock key: concurrent deploys (ours or Prisma's) wait for each other.
const LOCK_KEY = 72707369;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export class MigrationError extends Error {
  override name = 'MigrationError';
}

export interface DeployResult {
  applied: string[];
  current: string | null;
}

async function appliedMigrations(db: ClientBase): Promise<AppliedMigration[]> {
  const { rows } = await db.query<{
    migration_name: string;
    checksum: string;
    finished_at: Date | null;
    rolled_back_at: Date | null;
    started_at: Date;
    logs: string | null;
  }>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, started_at, logs
       FROM "_prisma_migrations" ORDER BY started_at, migration_name`,
  );
  return rows.map((r) => ({
    name: r.migration_name,
    checksum: r.checksum,
    finishedAt: r.finished_at,
    rolledBackAt: r.rolled_back_at,
    startedAt: r.started_at,
    logs: r.logs,
  }));
}

async function withLock<T>(db: ClientBase, fn: () => Promise<T>): Promise<T> {
  await db.query('SELECT pg_advisory_lock($1)', [LOCK_KEY]);
  try {
    await db.query(CREATE_TABLE);
    return await fn();
  } finally {
    await db.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]);
  }
}

export async function deploy(
  db: ClientBase,
  local: LocalMigration[],
  log: Logger,
): Promise<DeployResult> {
  return withLock(db, async () => {
    const p = plan(local, await appliedMigrations(db));
    const [failed] = p.failed;
    if (failed) {
      throw new MigrationError(
        `migration ${failed.name} failed earlier (started ${failed.startedAt.toISOString()}) and blocks ` +
          `new migrations: fix the database, then mark it with ` +
          `\`migrate resolve --rolled-back ${failed.name}\` (or --applied). Its error: ${failed.logs ?? '?'}`,
      );
    }
    for (const name of p.modified) {
      log.warn({ migration: name }, `migration ${name} was changed after it was applied`);
    }
    for (const name of p.unknown) {
      log.warn({ migration: name }, `migration ${name} is applied but not in this release`);
    }
    const applied: string[] = [];
    for (const m of p.pending) {
      const id = randomUUID();
      await db.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count)
         VALUES ($1, $2, $3, now(), 0)`,
        [id, m.checksum, m.name],
      );
      log.info({ migration: m.name }, `applying migration ${m.name}`);
      try {
        // One simple-protocol query: PostgreSQL runs the whole script as one transaction
        // (unless it has its own BEGIN/COMMIT), so a failing script leaves nothing half-done.
        await db.query(m.sql);
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        await db.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, reason]);
        throw new MigrationError(`migration ${m.name} failed: ${reason}`);
      }
      await db.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
        [id],
      );
      applied.push(m.name);
    }
    return { applied, current: local.at(-1)?.name ?? null };
  });
}

/** `migrate resolve`: mark a failed migration as rolled back (retry it) or applied (by hand). */
export async function resolve(
  db: ClientBase,
  name: string,
  as: 'rolled-back' | 'applied',
  local: LocalMigration[],
): Promise<void> {
  await withLock(db, async () => {
    const failed = plan(local, await appliedMigrations(db)).failed.find((m) => m.name === name);
    if (!failed) throw new MigrationError(`migration ${name} is not a failed migration here`);
    if (as === 'rolled-back') {
      await db.query(
        `UPDATE "_prisma_migrations" SET rolled_back_at = now()
          WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
        [name],
      );
    } else {
      await db.query(
        `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1
          WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL`,
        [name],
      );
    }
  });
}

/** Latest migration recorded as applied, or null (no table, nothing applied). */
export async function status(
  db: ClientBase,
  local: LocalMigration[],
): Promise<ReturnType<typeof plan>> {
  return withLock(db, async () => plan(local, await appliedMigrations(db)));
}
