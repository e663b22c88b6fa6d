import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { APP_CONFIG, MIGRATIONS } from '../tokens.js';

export interface DatabaseHealth {
  status: 'up' | 'down';
  version?: string;
  database?: string;
  /** Latest migration applied to the database. */
  schema_version?: string | null;
  /** Latest migration this release ships; the database must have it. */
  expected_schema_version?: string | null;
  latency_ms?: number;
  error?: string;
}

export interface Health {
  status: 'ok' | 'degraded';
  version: string;
  database: DatabaseHealth;
}

@Injectable()
export class HealthService {
  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MIGRATIONS) private readonly migrations: string[],
  ) {}

  async check(): Promise<Health> {
    const database = await this.database();
    const expected = this.migrations.at(-1) ?? null;
    const schemaOk = expected === null || (database.schema_version ?? '') >= expected;
    const ok = database.status === 'up' && schemaOk;
    return { status: ok ? 'ok' : 'degraded', version: this.config.version, database };
  }

  private async database(): Promise<DatabaseHealth> {
    const started = performance.now();
    const expected = this.migrations.at(-1) ?? null;
    try {
      const [server] = await this.prisma.$queryRaw<{ version: string; database: string }[]>`
        SELECT current_setting('server_version') AS version, current_database() AS database`;
      const [table] = await this.prisma.$queryRaw<{ present: boolean }[]>`
        SELECT to_regclass('public._prisma_migrations') IS NOT NULL AS present`;
      const [schema] = table?.present
        ? await this.prisma.$queryRaw<{ name: string | null }[]>`
            SELECT max(migration_name) AS name FROM public._prisma_migrations
             WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`
        : [];
      return {
        status: 'up',
        version: server?.version,
        database: server?.database,
        schema_version: schema?.name ?? null,
        expected_schema_version: expected,
        latency_ms: Math.round((performance.now() - started) * 100) / 100,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return { status: 'down', expected_schema_version: expected, error: message.slice(0, 300) };
    }
  }
}
