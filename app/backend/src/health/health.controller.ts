import { Controller, Get, Headers, HttpStatus, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { AppConfig } from '../config.js';
import { APP_CONFIG } from '../tokens.js';
import { HealthService, type Health } from './health.service.js';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Release gate and monitoring: 200 only when the database answers at this release's schema. */
  @Get('health')
  async check(@Res({ passthrough: true }) res: Response): Promise<Health> {
    const health = await this.health.check();
    res.status(health.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return health;
  }

  @Get('version')
  version(): { version: string } {
    return { version: this.config.version };
  }

  /** What the reverse proxy forwarded (APP-2), for checking nginx in front of the app. */
  @Get('echo-headers')
  echoHeaders(@Headers() headers: Record<string, string | undefined>): Record<string, unknown> {
    return {
      Host: headers.host ?? null,
      'X-Real-IP': headers['x-real-ip'] ?? null,
      'X-Forwarded-For': headers['x-forwarded-for'] ?? null,
      'X-Forwarded-Proto': headers['x-forwarded-proto'] ?? null,
    };
  }
}
