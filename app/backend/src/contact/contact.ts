// A visitor's contact request; the backend acknowledges it by e-mail.
export interface ContactRequest {
  email: string;
  name: string;
  message: string;
}

export class ContactError extends Error {
  override name = 'ContactError';
}

const EMAIL_RE = /^[^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+$/;

export function parseContact(body: unknown): ContactRequest {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const email = typeof b.email === 'string' ? b.email.trim() : '';
  const name = typeof b.name === 'string' ? b.name.trim() : '';
  const message = typeof b.message === 'string' ? b.message.trim() : '';
  if (!EMAIL_RE.test(email) || email.length > 254)
    throw new ContactError('email is not an e-mail address');
  if (name.length > 200) throw new ContactError('name is longer than 200 characters');
  if (message === '' || message.length > 5000) {
    throw new ContactError('message must have 1 to 5000 characters');
  }
  return { email, name, message };
}

export function acknowledgement(req: ContactRequest): { subject: string; text: string } {
  return {
    subject: 'We received your message',
    text:
      `Hello${req.name ? ` ${req.name}` : ''},\n\nthank you for writing to us; we will answer soon.\n\n` +
      `Your message:\n${req.message}\n`,
  };
}
