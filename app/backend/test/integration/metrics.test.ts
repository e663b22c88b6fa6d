import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { pino } from 'pino';
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { deploy } from '../../src/migrate/runner.js';
import { connect, freshDatabase } from '../helpers/db.js';
import { basicAuth, freePort } from '../helpers/net.js';
import { migrationsDir } from '../helpers/paths.js';

const PASSWORD = 'integration-scrape-password';

/** The value of one series (name and labels exactly as exposed) in a scrape; 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('metrics listener of the backend', () => {
  let app: INestApplication;
  let api: string;
  let metrics: string;
  let drop: () => Promise<void>;
  let closed = false;

  before(async () => {
    const fresh = await freshDatabase();
    drop = fresh.drop;
    const db = await connect(fresh.url);
    await deploy(db, readMigrations(migrationsDir), pino({ level: 'silent' }));
    await db.end();
    const metricsPort = await freePort();
    app = await createApp(
      loadConfig({
        DATABASE_URL: fresh.url,
        APP_VERSION: '9.9.9-metrics',
        LOG_LEVEL: 'ERROR',
        METRICS_PORT: String(metricsPort),
        METRICS_PASSWORD: PASSWORD,
      }),
      migrationsDir,
    );
    await app.listen(0, '127.0.0.1');
    const { port } = (app.getHttpServer() as Server).address() as AddressInfo;
    api = `http://127.0.0.1:${port}/api`;
    metrics = `http://127.0.0.1:${metricsPort}/metrics`;
  });

  after(async () => {
    if (!closed) await app.close();
    await drop();
  });

  const scrape = async () => {
    const res = await fetch(metrics, { headers: basicAuth('prometheus', PASSWORD) });
    assert.equal(res.status, 200);
    return res.text();
  };

  it('is not part of the API: nginx proxies /api/ to the API port only', async () => {
    assert.equal((await fetch(`${api}/metrics`)).status, 404);
    assert.equal((await fetch(`${api.replace(/\/api$/, '')}/metrics`)).status, 404);
  });

  it('refuses a scrape without the credentials', async () => {
    const res = await fetch(metrics);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Basic realm="metrics"');
    const wrong = await fetch(metrics, { headers: basicAuth('prometheus', 'guess') });
    assert.equal(wrong.status, 401);
  });

  it('counts requests per route template, unknown paths as "unmatched"', async () => {
    const before = await scrape();
    assert.equal((await fetch(`${api}/health`)).status, 200);
    assert.equal((await fetch(`${api}/no/such/path-4711`)).status, 404);
    assert.equal((await fetch(`${api}/payments/webhook`)).status, 404, 'GET of a POST route');
    const bad = await fetch(`${api}/payments/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ OrderId: 'x' }),
    });
    assert.equal(bad.status, 400);
    const text = await scrape();

    const added = (series: string) => value(text, series) - value(before, series);
    assert.equal(
      added('mvp_backend_http_requests_total{method="GET",route="/api/health",status="200"}'),
      1,
    );
    assert.equal(
      added('mvp_backend_http_requests_total{method="GET",route="unmatched",status="404"}'),
      2,
    );
    assert.equal(
      added(
        'mvp_backend_http_requests_total{method="POST",route="/api/payments/webhook",status="400"}',
      ),
      1,
    );
    assert.equal(
      added('mvp_backend_http_request_duration_seconds_count{method="GET",route="/api/health"}'),
      1,
    );
    assert.equal(
      added(
        'mvp_backend_http_request_duration_seconds_bucket{le="0.5",method="GET",route="/api/health"}',
      ),
      1,
    );
    // Only templates: no raw path, not Nest's 404 catch-all.
    assert.doesNotMatch(text, /path-4711|\/no\/such|\*path/);
    assert.match(text, /^mvp_backend_info\{version="9\.9\.9-metrics"\} 1$/m);
    assert.match(text, /^mvp_backend_process_resident_memory_bytes \d+/m);
  });

  it('closes with the app', async () => {
    await app.close();
    closed = true;
    await assert.rejects(fetch(metrics));
  });
});
