import { Module, type DynamicModule } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import type { AppConfig } from './config.js';
import { ContactController } from './contact/contact.controller.js';
import { HealthController } from './health/health.controller.js';
import { HealthService } from './health/health.service.js';
import { loggerOptions } from './logging/logger.js';
import { MailService } from './mail/mail.service.js';
import { MetricsService } from './metrics/metrics.service.js';
import { PaymentsController } from './payments/payments.controller.js';
import { PaymentsService } from './payments/payments.service.js';
import { PrismaService } from './prisma/prisma.service.js';
import { APP_CONFIG, MIGRATIONS } from './tokens.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, migrations: string[]): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: {
            ...loggerOptions(config.logLevel, config.version),
            quietReqLogger: true,
            serializers: {
              req: (req: { id: unknown; method: string; url: string }) => ({
                id: req.id,
                method: req.method,
                url: req.url,
              }),
              res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
            },
            // Health probes (Docker, the release gate, monitoring) only at DEBUG.
            customLogLevel: (req, res, err) =>
              err || res.statusCode >= 500
                ? 'error'
                : res.statusCode >= 400
                  ? 'warn'
                  : req.url?.startsWith('/api/health')
                    ? 'debug'
                    : 'info',
          },
        }),
      ],
      controllers: [HealthController, PaymentsController, ContactController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: MIGRATIONS, useValue: migrations },
        PrismaService,
        HealthService,
        PaymentsService,
        MailService,
        MetricsService,
      ],
    };
  }
}
