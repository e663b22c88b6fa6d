// Times every request of the API and serves the metrics on their own listener for the life of
// the app: it opens when the app starts and closes on shutdown (SIGTERM), after the API's server
// has drained, so the last requests are still counted and scraped.
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppConfig } from '../config.js';
import { APP_CONFIG } from '../tokens.js';
import { createMetrics, type HttpMetrics } from './metrics.js';
import { routeLabel } from './route.js';
import { close, createMetricsServer, listen } from './server.js';

@Injectable()
export class MetricsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger(MetricsService.name);
  private readonly metrics?: HttpMetrics;
  private server?: Server;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.metrics.port !== 0) this.metrics = createMetrics(config.version);
  }

  /** False with METRICS_PORT=0: no listener, nothing measured. */
  get enabled(): boolean {
    return this.metrics !== undefined;
  }

  /** Express middleware (the first one): observes each request once its response is sent. */
  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    const metrics = this.metrics;
    return (req, res, next) => {
      if (metrics) {
        const started = process.hrtime.bigint();
        res.once('finish', () => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          metrics.observe(req.method, routeLabel(req), res.statusCode, seconds);
        });
      }
      next();
    };
  }

  /** The listener's address (the tests), undefined when it is not listening. */
  address(): AddressInfo | undefined {
    const address = this.server?.address();
    return address !== null && typeof address === 'object' ? address : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.metrics) return;
    const { port, user, password } = this.config.metrics;
    this.server = createMetricsServer(this.metrics.registry, { user, password });
    await listen(this.server, port);
    this.log.log({ msg: 'metrics listening', port, auth: password !== undefined });
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.server) await close(this.server);
  }
}
