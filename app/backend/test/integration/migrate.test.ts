import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { pino } from 'pino';
import { checksum, readMigrations } from '../../src/migrate/migrations.js';
import { deploy, MigrationError, resolve } from '../../src/migrate/runner.js';
import { connect, freshDatabase } from '../helpers/db.js';
import { migrationsDir } from '../helpers/paths.js';

const log = pino({ level: 'silent' });

describe('migration runner against PostgreSQL', () => {
  let db: pg.Client;
  let drop: () => Promise<void>;

  before(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    db = await connect(fresh.url);
  });
  after(async () => {
    await db.end();
    await drop();
  });

  it('applies the first migration, then the second on top of existing rows', async () => {
    const all = readMigrations(migrationsDir);
    const first = await deploy(db, all.slice(0, 1), log);
    assert.deepEqual(first.applied, [all[0]?.name]);
    // Rows of the first release, including a repeated notification the second one removes.
    await db.query(`INSERT INTO payment_notifications
      (terminal_key, order_id, payment_id, status, amount, success)
      VALUES ('T', 'o1', 'p1', 'CONFIRMED', 100, true), ('T', 'o1', 'p1', 'CONFIRMED', 100, true),
             ('T', 'o1', 'p1', 'AUTHORIZED', 100, true)`);
    const second = await deploy(db, all, log);
    assert.deepEqual(second.applied, [all[1]?.name]);
    const { rows } = await db.query<{ status: string; error_code: string }>(
      'SELECT status, error_code FROM payment_notifications ORDER BY id',
    );
    assert.deepEqual(rows, [
      { status: 'CONFIRMED', error_code: '0' },
      { status: 'AUTHORIZED', error_code: '0' },
    ]);
    assert.deepEqual((await deploy(db, all, log)).applied, []);
  });

  it('records the migrations as Prisma does (name, SHA-256 of the file, finished, 1 step)', async () => {
    const { rows } = await db.query<{
      migration_name: string;
      checksum: string;
      finished: boolean;
      applied_steps_count: number;
      id: string;
    }>(`SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count, id
          FROM _prisma_migrations ORDER BY migration_name`);
    const files = readMigrations(migrationsDir);
    assert.deepEqual(
      rows.map((r) => [r.migration_name, r.checksum, r.finished, r.applied_steps_count]),
      files.map((m) => [
        m.name,
        checksum(readFileSync(join(migrationsDir, m.name, 'migration.sql'), 'utf8')),
        true,
        1,
      ]),
    );
    for (const r of rows) assert.match(r.id, /^[0-9a-f-]{36}$/);
  });

  it('stops at a failing migration, naming it, with nothing of it applied; resolve unblocks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
    cpSync(migrationsDir, dir, { recursive: true });
    const bad = '29991231000000_bad';
    mkdirSync(join(dir, bad));
    writeFileSync(
      join(dir, bad, 'migration.sql'),
      'ALTER TABLE "payment_notifications" ADD COLUMN "note" TEXT;\nALTER TABLE "no_such_table" ADD COLUMN "x" INT;\n',
    );
    await assert.rejects(deploy(db, readMigrations(dir), log), (err: Error) => {
      assert.ok(err instanceof MigrationError);
      assert.match(err.message, /migration 29991231000000_bad failed: .*no_such_table/);
      return true;
    });
    const { rows } = await db.query(
      `SELECT 1 FROM information_schema.columns WHERE table_name = 'payment_notifications' AND column_name = 'note'`,
    );
    assert.equal(rows.length, 0, 'the failed script was rolled back as a whole');
    // Like Prisma: the failed migration blocks the next deploy until it is resolved.
    await assert.rejects(deploy(db, readMigrations(dir), log), /29991231000000_bad failed earlier/);
    await resolve(db, bad, 'rolled-back', readMigrations(dir));
    writeFileSync(
      join(dir, bad, 'migration.sql'),
      'ALTER TABLE "payment_notifications" ADD COLUMN "note" TEXT;\n',
    );
    assert.deepEqual((await deploy(db, readMigrations(dir), log)).applied, [bad]);
  });
});
