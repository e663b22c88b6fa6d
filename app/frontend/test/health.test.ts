import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { appVersion, backendUrl, fetchBackendHealth, summarize } from '../lib/health.ts';

describe('backend health on the page', () => {
  it('summarizes a health answer', () => {
    const body = {
      status: 'ok',
      version: '2.0.0',
      database: { status: 'up', schema_version: '20261201130000_notification_dedup' },
    };
    assert.deepEqual(summarize(200, body), {
      reachable: true,
      status: 'ok',
      version: '2.0.0',
      database: 'up',
      schemaVersion: '20261201130000_notification_dedup',
    });
    assert.equal(summarize(502, 'Bad Gateway').status, 'HTTP 502');
  });

  it('fetches /api/health from a real server, and reports a dead one as unreachable', async () => {
    const server = createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.statusCode = req.url === '/api/health' ? 503 : 404;
      res.end(
        JSON.stringify({ status: 'degraded', version: '1.0.0', database: { status: 'down' } }),
      );
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const { port } = server.address() as AddressInfo;
    try {
      const h = await fetchBackendHealth(`http://127.0.0.1:${port}`);
      assert.equal(h.reachable, true);
      assert.equal(h.status, 'degraded');
      assert.equal(h.database, 'down');
    } finally {
      await new Promise<void>((ok) => server.close(() => ok()));
    }
    const dead = await fetchBackendHealth(`http://127.0.0.1:${port}`, 500);
    assert.equal(dead.reachable, false);
    assert.equal(dead.status, 'unreachable');
  });

  it('takes the version and backend address from the environment', () => {
    assert.equal(appVersion({ APP_VERSION: '3.1.0' }), '3.1.0');
    assert.equal(appVersion({}), '0.0.0');
    assert.equal(backendUrl({}), 'http://backend:3001');
    assert.equal(
      backendUrl({ BACKEND_INTERNAL_URL: 'http://127.0.0.1:5001' }),
      'http://127.0.0.1:5001',
    );
  });
});
