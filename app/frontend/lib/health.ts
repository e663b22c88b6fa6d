// What the page shows about the backend: its /api/health answer, or why there is none.
// Self-contained (no relative imports) so node's test runner loads it as it is.

export interface BackendHealth {
  reachable: boolean;
  status: string;
  version?: string;
  database?: string;
  schemaVersion?: string | null;
  error?: string;
}

interface HealthBody {
  status?: unknown;
  version?: unknown;
  database?: { status?: unknown; schema_version?: unknown };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function summarize(httpStatus: number, body: unknown): BackendHealth {
  const b = (typeof body === 'object' && body !== null ? body : {}) as HealthBody;
  return {
    reachable: true,
    status: str(b.status) ?? `HTTP ${httpStatus}`,
    version: str(b.version),
    database: str(b.database?.status),
    schemaVersion: str(b.database?.schema_version) ?? null,
  };
}

export async function fetchBackendHealth(
  baseUrl: string,
  timeoutMs = 2000,
  fetchImpl: typeof fetch = fetch,
): Promise<BackendHealth> {
  try {
    const res = await fetchImpl(new URL('/api/health', baseUrl), {
      cache: 'no-store',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body: unknown = await res.json().catch(() => null);
    return summarize(res.status, body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { reachable: false, status: 'unreachable', error: reason };
  }
}

export function appVersion(env: Record<string, string | undefined> = process.env): string {
  return env.APP_VERSION ?? env.npm_package_version ?? '0.0.0';
}

/** Where the server reaches the backend: its service name in the same compose project. */
export function backendUrl(env: Record<string, string | undefined> = process.env): string {
  return env.BACKEND_INTERNAL_URL ?? 'http://backend:3001';
}
