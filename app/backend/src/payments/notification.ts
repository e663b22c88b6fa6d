// The fields of a T-Bank payment notification the backend keeps, checked for shape.
export interface PaymentNotificationInput {
  terminalKey: string;
  orderId: string;
  paymentId: string;
  status: string;
  amount: bigint;
  success: boolean;
  errorCode: string;
  payload: Record<string, unknown>;
}

export class NotificationError extends Error {
  override name = 'NotificationError';
}

function text(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if ((typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v))) {
    return String(v);
  }
  throw new NotificationError(`${key} is missing or not a string/number`);
}

export function parseNotification(body: unknown): PaymentNotificationInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new NotificationError('the notification is not a JSON object');
  }
  const fields = body as Record<string, unknown>;
  const amount = text(fields, 'Amount');
  if (!/^\d+$/.test(amount)) throw new NotificationError('Amount is not a whole number of kopecks');
  const { Token: _token, ...payload } = fields;
  return {
    terminalKey: text(fields, 'TerminalKey'),
    orderId: text(fields, 'OrderId'),
    paymentId: text(fields, 'PaymentId'),
    status: text(fields, 'Status'),
    amount: BigInt(amount),
    success: fields.Success === true || fields.Success === 'true',
    errorCode: fields.ErrorCode === undefined ? '0' : text(fields, 'ErrorCode'),
    payload,
  };
}
