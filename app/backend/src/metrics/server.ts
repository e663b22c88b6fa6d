// The metrics listener: a plain node:http server on a port of its own (METRICS_PORT), apart
// from the API's, so nginx (which proxies /api/ to the API's port) can never expose it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { CHALLENGE, authorized, type Credentials } from './auth.js';

function answer(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(body);
}

export function createMetricsServer(registry: Registry, credentials: Partial<Credentials>): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!authorized(req.headers.authorization, credentials)) {
      return answer(res, 401, 'Unauthorized\n', { 'www-authenticate': CHALLENGE });
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return answer(res, 404, 'Not Found\n');
    if (req.method !== 'GET') return answer(res, 405, 'Method Not Allowed\n', { allow: 'GET' });
    const text = await registry.metrics();
    answer(res, 200, text, { 'content-type': registry.contentType });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) answer(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  });
  // A scraper that connects and says nothing must not hold the listener open at shutdown.
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  return server;
}

export function listen(server: Server, port: number, host = '0.0.0.0'): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error) =>
      reject(new Error(`metrics listener on ${host}:${port}: ${err.message}`));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/** Stops accepting, drops idle keep-alive connections (Prometheus keeps one), waits for the rest. */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
