import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import type { AppConfig } from '../config.js';
import { APP_CONFIG } from '../tokens.js';
import { applyRedirect, type Message } from './redirect.js';

export class MailDisabledError extends Error {
  override name = 'MailDisabledError';
}

// Outgoing mail through SMTP (EMAIL_PROVIDER=smtp, or SendGrid's SMTP relay), or into the log
// (EMAIL_PROVIDER=log, development). EMAIL_REDIRECT_TO sends everything to one test mailbox.
@Injectable()
export class MailService implements OnModuleDestroy {
  private readonly log = new Logger(MailService.name);
  private readonly transporter?: Transporter;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    const t = config.mail.transport;
    if (t.kind === 'smtp') {
      this.transporter = createTransport({
        host: t.host,
        port: t.port,
        secure: t.secure,
        auth: t.user ? { user: t.user, pass: t.password ?? '' } : undefined,
        connectionTimeout: 10000,
        greetingTimeout: 10000,
      });
    } else if (t.kind === 'log') {
      this.transporter = createTransport({ jsonTransport: true });
    }
  }

  async send(message: Message): Promise<{ messageId: string; to: string[] }> {
    if (!this.transporter) throw new MailDisabledError('outgoing mail is not configured');
    const envelope = applyRedirect(message, this.config.mail.redirectTo);
    const info = (await this.transporter.sendMail({
      from: this.config.mail.from,
      to: envelope.to,
      cc: envelope.cc,
      bcc: envelope.bcc,
      subject: envelope.subject,
      text: envelope.text,
      headers: envelope.headers,
    })) as { messageId: string; message?: string };
    this.log.log({
      msg: 'mail sent',
      messageId: info.messageId,
      to: envelope.to,
      redirected: envelope.headers['X-Original-To'] !== undefined,
      ...(this.config.mail.transport.kind === 'log' ? { message: info.message } : {}),
    });
    return { messageId: info.messageId, to: envelope.to };
  }

  onModuleDestroy(): void {
    this.transporter?.close();
  }
}
