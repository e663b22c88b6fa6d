// Builds the HTTP application (shared by main.ts and the integration tests).
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { resolve } from 'node:path';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config.js';
import { MetricsService } from './metrics/metrics.service.js';
import { readMigrations } from './migrate/migrations.js';

export async function createApp(
  config: AppConfig,
  migrationsDir = resolve(process.env.MIGRATIONS_DIR ?? 'prisma/migrations'),
): Promise<INestApplication> {
  const migrations = readMigrations(migrationsDir).map((m) => m.name);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, migrations),
    { bufferLogs: true },
  );
  app.useLogger(app.get(Logger));
  app.disable('x-powered-by');
  // First, so the latency counts every middleware; the listener itself is MetricsService's.
  const metrics = app.get(MetricsService);
  if (metrics.enabled) app.use(metrics.middleware());
  app.use((_req: unknown, res: { setHeader(k: string, v: string): void }, next: () => void) => {
    res.setHeader('X-App-Version', config.version);
    next();
  });
  app.setGlobalPrefix('api');
  return app;
}
