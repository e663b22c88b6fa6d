import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AppConfig } from '../config.js';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace.js';
import { PrismaService } from '../prisma/prisma.service.js';
import { APP_CONFIG } from '../tokens.js';
import type { PaymentNotificationInput } from './notification.js';
import { verifyTbankToken } from './token.js';

export type Verdict = 'valid' | 'bad-token' | 'wrong-terminal' | 'not-configured';

@Injectable()
export class PaymentsService {
  private readonly log = new Logger(PaymentsService.name);

  constructor(
    private readonly prisma: PrismaService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  verify(body: Record<string, unknown>, terminalKey: string): Verdict {
    const payments = this.config.payments;
    if (!payments) return 'not-configured';
    if (terminalKey !== payments.terminalKey) return 'wrong-terminal';
    return verifyTbankToken(body, payments.password) ? 'valid' : 'bad-token';
  }

  /** Records the notification once per payment and status; true when it was new. */
  async record(n: PaymentNotificationInput): Promise<boolean> {
    const { count } = await this.prisma.paymentNotification.createMany({
      data: [{ ...n, payload: n.payload as InputJsonValue }],
      skipDuplicates: true,
    });
    this.log.log({
      msg: count ? 'payment notification recorded' : 'payment notification repeated',
      orderId: n.orderId,
      paymentId: n.paymentId,
      status: n.status,
    });
    return count > 0;
  }
}
