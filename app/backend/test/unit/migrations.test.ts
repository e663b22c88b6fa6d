import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  checksum,
  plan,
  readMigrations,
  type AppliedMigration,
} from '../../src/migrate/migrations.js';

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'migrations-'));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, 'migration.sql'), sql);
  }
  writeFileSync(join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  return dir;
}

const applied = (
  name: string,
  sql: string,
  over: Partial<AppliedMigration> = {},
): AppliedMigration => ({
  name,
  checksum: checksum(sql),
  finishedAt: new Date(),
  rolledBackAt: null,
  startedAt: new Date(),
  logs: null,
  ...over,
});

describe('migrations', () => {
  it('reads migration directories in name order, with the SHA-256 Prisma records', () => {
    const local = readMigrations(dirWith({ '2_b': 'B;', '1_a': 'A;' }));
    assert.deepEqual(
      local.map((m) => m.name),
      ['1_a', '2_b'],
    );
    assert.equal(
      local[0]?.checksum,
      '73c5754a2bb8796123dc24b0f7f7a5219f24eebff1e1807e1662e9a147d88c7c',
    ); // sha256sum of 'A;'
  });

  it('plans the pending ones, and reports failed, modified and unknown ones', () => {
    const local = readMigrations(dirWith({ '1_a': 'A;', '2_b': 'B;', '3_c': 'C;' }));
    const p = plan(local, [
      applied('1_a', 'A changed;'),
      applied('2_b', 'B;', { finishedAt: null, logs: 'boom' }),
      applied('0_old', 'O;'),
    ]);
    assert.deepEqual(
      p.pending.map((m) => m.name),
      ['2_b', '3_c'],
    );
    assert.deepEqual(
      p.failed.map((m) => m.name),
      ['2_b'],
    );
    assert.deepEqual(p.modified, ['1_a']);
    assert.deepEqual(p.unknown, ['0_old']);
  });

  it('retries a migration marked rolled back', () => {
    const local = readMigrations(dirWith({ '1_a': 'A;' }));
    const p = plan(local, [applied('1_a', 'A;', { finishedAt: null, rolledBackAt: new Date() })]);
    assert.deepEqual(
      p.pending.map((m) => m.name),
      ['1_a'],
    );
    assert.deepEqual(p.failed, []);
  });

  it('ships a second migration that alters the first one table', () => {
    const local = readMigrations(new URL('../../../prisma/migrations', import.meta.url).pathname);
    assert.ok(local.length >= 2);
    assert.match(local[0]?.sql ?? '', /CREATE TABLE "payment_notifications"/);
    assert.match(local[1]?.sql ?? '', /ALTER TABLE "payment_notifications"/);
  });
});
