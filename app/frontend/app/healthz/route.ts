import { appVersion } from '../../lib/health.ts';

// The frontend's own liveness (no backend call): Docker's healthcheck and the release gate.
export const dynamic = 'force-dynamic';

export function GET(): Response {
  return Response.json({ status: 'ok', version: appVersion() });
}
