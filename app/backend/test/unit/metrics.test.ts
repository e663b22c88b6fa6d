import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authorized, CHALLENGE, parseBasicAuth } from '../../src/metrics/auth.js';
import { createMetrics, LATENCY_BUCKETS } from '../../src/metrics/metrics.js';
import { routeLabel, UNMATCHED } from '../../src/metrics/route.js';

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('route label', () => {
  it('is the matched template with the prefix, never the raw path', () => {
    assert.equal(routeLabel({ baseUrl: '', route: { path: '/api/health' } }), '/api/health');
    assert.equal(
      routeLabel({ baseUrl: '/api', route: { path: '/things/:id' } }),
      '/api/things/:id',
    );
    assert.equal(routeLabel({ baseUrl: '/api/payments', route: { path: '/' } }), '/api/payments');
    assert.equal(routeLabel({ route: { path: '/' } }), '/');
  });

  it('is "unmatched" without a route or with a template that is not a string', () => {
    assert.equal(UNMATCHED, 'unmatched');
    assert.equal(routeLabel({ baseUrl: '' }), 'unmatched');
    assert.equal(routeLabel({ baseUrl: '', route: { path: /^\/x/ } }), 'unmatched');
    assert.equal(routeLabel({ baseUrl: '', route: {} }), 'unmatched');
    // Nest's 404 handler: `router.all('*path')` in a router mounted at the prefix.
    assert.equal(routeLabel({ baseUrl: '/api', route: { path: '*path' } }), 'unmatched');
  });
});

describe('metrics basic auth', () => {
  const expected = { user: 'prometheus', password: 'pa:ss wörd' };

  it('parses basic credentials, the password may contain colons', () => {
    assert.deepEqual(parseBasicAuth(basic('prometheus', 'a:b')), {
      user: 'prometheus',
      password: 'a:b',
    });
    assert.deepEqual(parseBasicAuth(`basic ${Buffer.from('u:').toString('base64')}`), {
      user: 'u',
      password: '',
    });
    for (const bad of [undefined, '', 'Basic', 'Basic !!!', 'Bearer abc', 'Basic dXNlcg==']) {
      assert.equal(parseBasicAuth(bad), undefined, String(bad));
    }
  });

  it('lets only exactly the configured user and password in', () => {
    assert.equal(authorized(basic('prometheus', 'pa:ss wörd'), expected), true);
    assert.equal(authorized(basic('prometheus', 'pa:ss wörd '), expected), false);
    assert.equal(authorized(basic('prometheus', 'pa:ss'), expected), false);
    assert.equal(authorized(basic('Prometheus', 'pa:ss wörd'), expected), false);
    assert.equal(authorized(basic('', ''), expected), false);
    assert.equal(authorized(undefined, expected), false);
    assert.equal(authorized('Bearer pa:ss wörd', expected), false);
  });

  it('is open without a password', () => {
    assert.equal(authorized(undefined, { user: 'prometheus' }), true);
    assert.equal(authorized(basic('x', 'y'), { user: 'prometheus', password: undefined }), true);
    assert.equal(CHALLENGE, 'Basic realm="metrics"');
  });
});

describe('metrics registry', () => {
  it('uses the nginx histogram bounds, 0.5 s among them', () => {
    assert.deepEqual(LATENCY_BUCKETS, [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  });

  it('exposes the request counter, the latency histogram, the info gauge and process metrics', async () => {
    const m = createMetrics('1.2.3');
    m.observe('GET', '/api/health', 200, 0.3);
    m.observe('GET', '/api/health', 200, 0.7);
    m.observe('GET', 'unmatched', 404, 0.001);
    const text = await m.registry.metrics();
    assert.match(text, /^# TYPE mvp_backend_http_requests_total counter$/m);
    assert.match(
      text,
      /^mvp_backend_http_requests_total\{method="GET",route="\/api\/health",status="200"\} 2$/m,
    );
    assert.match(
      text,
      /^mvp_backend_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m,
    );
    assert.match(text, /^# TYPE mvp_backend_http_request_duration_seconds histogram$/m);
    const bucket = (le: string) =>
      text
        .split('\n')
        .find(
          (l) =>
            l.startsWith('mvp_backend_http_request_duration_seconds_bucket{') &&
            l.includes(`le="${le}"`) &&
            l.includes('method="GET"') &&
            l.includes('route="/api/health"'),
        )
        ?.split(' ')
        .at(-1);
    assert.equal(bucket('0.25'), '0');
    assert.equal(bucket('0.5'), '1');
    assert.equal(bucket('1'), '2');
    assert.equal(bucket('+Inf'), '2');
    assert.match(text, /^mvp_backend_info\{version="1\.2\.3"\} 1$/m);
    assert.match(text, /^mvp_backend_process_cpu_seconds_total /m);
    assert.match(text, /^mvp_backend_nodejs_heap_size_used_bytes /m);
  });

  it('gives every app a registry of its own', async () => {
    const a = createMetrics('1');
    createMetrics('2').observe('POST', '/api/contact', 202, 0.01);
    assert.doesNotMatch(await a.registry.metrics(), /route="\/api\/contact"/);
  });
});
