import {
  BadGatewayException,
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Logger,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import { MailDisabledError, MailService } from '../mail/mail.service.js';
import { acknowledgement, ContactError, parseContact } from './contact.js';

@Controller('contact')
export class ContactController {
  private readonly log = new Logger(ContactController.name);

  constructor(private readonly mail: MailService) {}

  @Post()
  @HttpCode(202)
  async create(@Body() body: unknown): Promise<{ status: 'accepted' }> {
    let request;
    try {
      request = parseContact(body);
    } catch (err) {
      if (err instanceof ContactError) throw new BadRequestException(err.message);
      throw err;
    }
    try {
      await this.mail.send({ to: [request.email], ...acknowledgement(request) });
    } catch (err) {
      if (err instanceof MailDisabledError) throw new ServiceUnavailableException(err.message);
      this.log.error({ msg: 'mail delivery failed', err });
      throw new BadGatewayException('mail delivery failed');
    }
    return { status: 'accepted' };
  }
}
