import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createMetrics } from '../../src/metrics/metrics.js';
import { close, createMetricsServer, listen } from '../../src/metrics/server.js';

const auth = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

async function started(password?: string): Promise<{ server: Server; url: string }> {
  const metrics = createMetrics('4.5.6');
  metrics.observe('GET', '/api/version', 200, 0.002);
  const server = createMetricsServer(metrics.registry, { user: 'prometheus', password });
  await listen(server, 0, '127.0.0.1');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('metrics listener with a password', () => {
  let server: Server;
  let url: string;
  before(async () => ({ server, url } = await started('scrape-secret')));
  after(() => close(server));

  it('serves GET /metrics in the Prometheus text format with the right credentials', async () => {
    const res = await fetch(`${url}/metrics`, { headers: auth('prometheus', 'scrape-secret') });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^mvp_backend_http_requests_total\{.*route="\/api\/version".*\} 1$/m);
    assert.match(text, /^mvp_backend_info\{version="4\.5\.6"\} 1$/m);
  });

  it('answers 401 with a challenge to anything without them, whatever the path', async () => {
    for (const [path, headers] of [
      ['/metrics', {}],
      ['/metrics', auth('prometheus', 'wrong')],
      ['/metrics', auth('admin', 'scrape-secret')],
      ['/other', {}],
    ] as const) {
      const res = await fetch(`${url}${path}`, { headers });
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.equal(res.headers.get('www-authenticate'), 'Basic realm="metrics"');
      assert.doesNotMatch(await res.text(), /mvp_backend/);
    }
  });

  it('answers 404 for other paths and 405 for other methods', async () => {
    const headers = auth('prometheus', 'scrape-secret');
    assert.equal((await fetch(`${url}/`, { headers })).status, 404);
    assert.equal((await fetch(`${url}/api/health`, { headers })).status, 404);
    assert.equal((await fetch(`${url}/metrics?x=1`, { headers })).status, 200);
    const post = await fetch(`${url}/metrics`, { method: 'POST', headers, body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET');
  });
});

describe('metrics listener without a password', () => {
  it('is open, and closes even with a keep-alive connection', async () => {
    const { server, url } = await started();
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    await res.text();
    await close(server);
    assert.equal(server.listening, false);
    await close(server);
  });

  it('names the port when it cannot listen', async () => {
    const { server, url } = await started();
    const port = Number(new URL(url).port);
    const second = createMetricsServer(createMetrics('x').registry, {});
    await assert.rejects(
      listen(second, port, '127.0.0.1'),
      /metrics listener on 127\.0\.0\.1:\d+: .*EADDRINUSE/,
    );
    await close(server);
  });
});
