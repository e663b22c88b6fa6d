// Outgoing mail outside production goes to one test mailbox (EMAIL_REDIRECT_TO), never to the
// real recipients: the original ones are kept in a header and the subject for the tester.
export interface Message {
  to: string[];
  cc?: string[];
  bcc?: string[];
  subject: string;
  text: string;
}

export interface Envelope extends Message {
  headers: Record<string, string>;
}

export function applyRedirect(message: Message, redirectTo: string | undefined): Envelope {
  if (!redirectTo) return { ...message, headers: {} };
  const original = [...message.to, ...(message.cc ?? []), ...(message.bcc ?? [])];
  return {
    to: [redirectTo],
    subject: `[to ${original.join(', ')}] ${message.subject}`,
    text: message.text,
    headers: { 'X-Original-To': original.join(', ') },
  };
}
