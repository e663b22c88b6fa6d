// The backend's Prometheus metrics, in a registry of their own (one per app: the tests create
// several). Names are a contract with roles/monitoring: keep them.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const PREFIX = 'mvp_backend_';

/** Latency buckets in seconds: the nginx-side histogram's bounds; 0.5 s is the SLO bound. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

export interface HttpMetrics {
  registry: Registry;
  /** One finished request: its method, route label, status code and duration in seconds. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

export function createMetrics(version: string): HttpMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: `${PREFIX}http_requests_total`,
    help: 'HTTP requests answered by the backend, by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: `${PREFIX}http_request_duration_seconds`,
    help: 'Time from the request to the end of the response, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [...LATENCY_BUCKETS],
    registers: [registry],
  });
  const info = new Gauge({
    name: `${PREFIX}info`,
    help: 'Always 1; the version label is the running release.',
    labelNames: ['version'] as const,
    registers: [registry],
  });
  info.set({ version }, 1);
  collectDefaultMetrics({ prefix: PREFIX, register: registry });
  return {
    registry,
    observe(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
  };
}
