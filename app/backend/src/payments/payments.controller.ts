import {
  BadRequestException,
  Body,
  Controller,
  ForbiddenException,
  HttpCode,
  Logger,
  Post,
  Res,
  ServiceUnavailableException,
} from '@nestjs/common';
import type { Response } from 'express';
import { NotificationError, parseNotification } from './notification.js';
import { PaymentsService } from './payments.service.js';

// The gateway's notification URL (PAYMENT_NOTIFICATION_URL = PUBLIC_URL + /api/payments/webhook).
// It expects the plain body "OK"; anything else makes it retry.
@Controller('payments')
export class PaymentsController {
  private readonly log = new Logger(PaymentsController.name);

  constructor(private readonly payments: PaymentsService) {}

  @Post('webhook')
  @HttpCode(200)
  async webhook(@Body() body: unknown, @Res({ passthrough: true }) res: Response): Promise<string> {
    let notification;
    try {
      notification = parseNotification(body);
    } catch (err) {
      if (err instanceof NotificationError) throw new BadRequestException(err.message);
      throw err;
    }
    const verdict = this.payments.verify(body as Record<string, unknown>, notification.terminalKey);
    if (verdict === 'not-configured') {
      throw new ServiceUnavailableException('payments are not configured');
    }
    if (verdict !== 'valid') {
      this.log.warn({
        msg: 'payment notification refused',
        reason: verdict,
        orderId: notification.orderId,
      });
      throw new ForbiddenException('invalid notification token');
    }
    await this.payments.record(notification);
    res.type('text/plain');
    return 'OK';
  }
}
