import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freshDatabase } from '../helpers/db.js';
import { basicAuth, freePort } from '../helpers/net.js';
import { backendRoot } from '../helpers/paths.js';

function run(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, {
    cwd: backendRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
  return { child, exited, output: () => out };
}

describe('backend process', () => {
  let url: string;
  let drop: () => Promise<void>;
  before(async () => ({ url, drop } = await freshDatabase()));
  after(async () => drop());

  it('migrates with the release command, logs JSON, and exits 0 on SIGTERM', async () => {
    const migrate = run(['build/src/migrate/cli.js', 'deploy'], { DATABASE_URL: url });
    assert.equal(await migrate.exited, 0, migrate.output());
    const lines = migrate
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; msg: string });
    assert.match(lines.at(-1)?.msg ?? '', /applied 2 migration\(s\)/);

    const port = await freePort();
    const metricsPort = await freePort();
    const server = run(['build/src/main.js'], {
      DATABASE_URL: url,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      METRICS_PASSWORD: 'process-test',
      LOG_LEVEL: 'DEBUG',
      APP_VERSION: '1.2.3',
    });
    let healthy = false;
    for (let i = 0; i < 100 && !healthy; i++) {
      await sleep(200);
      healthy = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        (r) => r.ok,
        () => false,
      );
    }
    assert.ok(healthy, server.output());
    // A scraper's keep-alive connection to the metrics listener does not hold the exit up.
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`, {
      headers: basicAuth('prometheus', 'process-test'),
    });
    assert.equal(scrape.status, 200);
    assert.match(await scrape.text(), /route="\/api\/health"/);
    const t0 = Date.now();
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.output());
    assert.ok(Date.now() - t0 < 5000, `SIGTERM took ${Date.now() - t0} ms`);
    const logs = server
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(logs.every((l) => typeof l.level === 'string' && typeof l.time === 'string'));
    assert.ok(
      logs.some((l) => l.level === 'DEBUG'),
      'LOG_LEVEL=DEBUG logs the health probes',
    );
  });

  it('refuses to start with a bad setting, naming it', async () => {
    const bad = run(['build/src/main.js'], { DATABASE_URL: url, LOG_LEVEL: 'loud' });
    assert.equal(await bad.exited, 2);
    assert.match(bad.output(), /LOG_LEVEL=loud is not one of DEBUG, INFO, WARN, ERROR/);
  });

  it('names the failed migration and exits 1 when the database is unreachable', async () => {
    const port = await freePort();
    const migrate = run(['build/src/migrate/cli.js', 'deploy'], {
      DATABASE_URL: `postgresql://nobody:x@127.0.0.1:${port}/none`,
    });
    assert.equal(await migrate.exited, 1);
    assert.match(migrate.output(), /"level":"ERROR"/);
  });
});
