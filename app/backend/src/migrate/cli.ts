// The release's migration step (app_stack_migrate_command): `node dist/migrate/cli.js deploy`.
//   deploy                               apply pending migrations (exit 1 naming the one that failed)
//   status                               list pending / failed migrations (exit 1 when any)
//   resolve --rolled-back|--applied NAME  clear a failed migration, as `prisma migrate resolve`
// Migrations are read from MIGRATIONS_DIR (default: prisma/migrations under the working dir).
import { resolve as resolvePath } from 'node:path';
import pg from 'pg';
import { ConfigError, loadConfig, type AppConfig } from '../config.js';
import { createLogger } from '../logging/logger.js';
import { readMigrations } from './migrations.js';
import { deploy, resolve, status } from './runner.js';

async function main(argv: string[]): Promise<number> {
  let config: AppConfig;
  try {
    // Only the database and logging settings matter here.
    config = loadConfig({
      DATABASE_URL: process.env.DATABASE_URL,
      LOG_LEVEL: process.env.LOG_LEVEL,
      APP_VERSION: process.env.APP_VERSION,
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(JSON.stringify({ level: 'ERROR', msg: err.message }) + '\n');
    return 2;
  }
  const log = createLogger(config.logLevel, config.version);
  const dir = resolvePath(process.env.MIGRATIONS_DIR ?? 'prisma/migrations');
  const local = readMigrations(dir);
  const db = new pg.Client({
    connectionString: config.databaseUrl,
    connectionTimeoutMillis: 10000,
  });
  const [command = 'deploy', ...args] = argv;
  try {
    await db.connect();
    switch (command) {
      case 'deploy': {
        const result = await deploy(db, local, log);
        log.info(
          { applied: result.applied, schema_version: result.current },
          result.applied.length
            ? `applied ${result.applied.length} migration(s); schema at ${result.current}`
            : `no pending migrations; schema at ${result.current}`,
        );
        return 0;
      }
      case 'status': {
        const p = await status(db, local);
        const pending = p.pending.map((m) => m.name);
        const failed = p.failed.map((m) => m.name);
        log.info({ pending, failed, modified: p.modified, unknown: p.unknown }, 'migration status');
        return pending.length || failed.length ? 1 : 0;
      }
      case 'resolve': {
        const [flag, name] = args;
        if ((flag !== '--rolled-back' && flag !== '--applied') || !name) {
          log.error('usage: resolve --rolled-back NAME | --applied NAME');
          return 2;
        }
        await resolve(db, name, flag === '--applied' ? 'applied' : 'rolled-back', local);
        log.info({ migration: name }, `migration ${name} marked ${flag.slice(2)}`);
        return 0;
      }
      default:
        log.error(`unknown command ${command} (deploy, status, resolve)`);
        return 2;
    }
  } catch (err) {
    log.error({ err }, err instanceof Error ? err.message : String(err));
    return 1;
  } finally {
    await db.end().catch(() => undefined);
  }
}

process.exitCode = await main(process.argv.slice(2));
