// Migrations on disk (prisma/migrations/<name>/migration.sql, applied in name order) and the
// plan against what the database recorded in Prisma's own _prisma_migrations table, with the
// rules of `prisma migrate deploy`: a failed migration blocks everything until it is resolved;
// an applied migration whose file changed is reported, not re-run.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalMigration {
  name: string;
  sql: string;
  /** SHA-256 (hex) of migration.sql, as Prisma records it. */
  checksum: string;
}

export interface AppliedMigration {
  name: string;
  checksum: string;
  finishedAt: Date | null;
  rolledBackAt: Date | null;
  startedAt: Date;
  logs: string | null;
}

export interface Plan {
  pending: LocalMigration[];
  /** Started but neither finished nor marked rolled back: blocks the deploy. */
  failed: AppliedMigration[];
  /** Applied, but the file on disk differs from what was applied. */
  modified: string[];
  /** Applied in the database, not on disk (a newer release ran here, or a file was removed). */
  unknown: string[];
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export function readMigrations(dir: string): LocalMigration[] {
  return readdirSync(dir)
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    });
}

export function plan(local: LocalMigration[], applied: AppliedMigration[]): Plan {
  const live = applied.filter((m) => m.rolledBackAt === null);
  const done = new Map(live.filter((m) => m.finishedAt !== null).map((m) => [m.name, m]));
  const names = new Set(local.map((m) => m.name));
  return {
    pending: local.filter((m) => !done.has(m.name)),
    failed: live.filter((m) => m.finishedAt === null),
    modified: local
      .filter((m) => done.has(m.name) && done.get(m.name)?.checksum !== m.checksum)
      .map((m) => m.name),
    unknown: [...done.keys()].filter((name) => !names.has(name)).sort(),
  };
}
