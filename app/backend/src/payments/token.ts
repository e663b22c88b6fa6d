// T-Bank (Tinkoff) request/notification signature: the top-level scalar fields except Token,
// plus Password (the terminal's secret), sorted by key, values concatenated, SHA-256 in hex.
// Nested objects (Data, Receipt) are not part of the signature.
import { createHash, timingSafeEqual } from 'node:crypto';

type Fields = Record<string, unknown>;

function isScalar(v: unknown): v is string | number | boolean | bigint {
  return ['string', 'number', 'boolean', 'bigint'].includes(typeof v);
}

export function tbankToken(fields: Fields, password: string): string {
  const pairs: [string, string][] = Object.entries(fields)
    .filter(([key, v]) => key !== 'Token' && isScalar(v))
    .map(([key, v]) => [key, String(v as string | number | boolean | bigint)]);
  pairs.push(['Password', password]);
  pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256')
    .update(pairs.map(([, v]) => v).join(''), 'utf8')
    .digest('hex');
}

/** True when fields.Token is the signature of fields with this password (constant time). */
export function verifyTbankToken(fields: Fields, password: string): boolean {
  const given = fields.Token;
  if (typeof given !== 'string' || !/^[0-9a-fA-F]{64}$/.test(given)) return false;
  const expected = Buffer.from(tbankToken(fields, password), 'hex');
  return timingSafeEqual(expected, Buffer.from(given.toLowerCase(), 'hex'));
}
