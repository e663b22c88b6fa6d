// HTTP basic auth of the metrics listener (RFC 7617), compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  user: string;
  password: string;
}

/** The WWW-Authenticate header of a 401 from the metrics listener. */
export const CHALLENGE = 'Basic realm="metrics"';

/** The credentials of an `Authorization: Basic ...` header, or undefined when it is not one. */
export function parseBasicAuth(header: string | undefined): Credentials | undefined {
  const match = /^basic +([A-Za-z0-9+/]+=*) *$/i.exec(header ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

// SHA-256 first: timingSafeEqual needs buffers of equal length, and comparing digests does not
// tell the length of the secret either.
function same(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Whether a request with this Authorization header may read the metrics. Without an expected
 * password the listener is open (development, published on loopback only).
 */
export function authorized(header: string | undefined, expected: Partial<Credentials>): boolean {
  if (expected.password === undefined) return true;
  const given = parseBasicAuth(header);
  if (given === undefined) return false;
  // Both comparisons always run: the time does not tell which of the two was wrong.
  const userOk = same(given.user, expected.user ?? '');
  const passwordOk = same(given.password, expected.password);
  return userOk && passwordOk;
}
