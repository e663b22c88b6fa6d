import { appVersion, backendUrl, fetchBackendHealth } from '../lib/health.ts';

// Rendered per request: the page reports the backend's health as it is now.
export const dynamic = 'force-dynamic';

export default async function Home() {
  const version = appVersion();
  const health = await fetchBackendHealth(backendUrl());
  const apiUrl = process.env.NEXT_PUBLIC_API_URL ?? '/api';
  return (
    <main>
      <h1>MVP Platform</h1>
      <p id="version">{`frontend version ${version}`}</p>
      <h2>Backend</h2>
      <dl id="backend">
        <dt>status</dt>
        <dd className={health.status === 'ok' ? 'ok' : 'bad'}>{health.status}</dd>
        {health.version && (
          <>
            <dt>version</dt>
            <dd>{health.version}</dd>
          </>
        )}
        {health.database && (
          <>
            <dt>database</dt>
            <dd>{`${health.database}, schema ${health.schemaVersion ?? 'none'}`}</dd>
          </>
        )}
        {health.error && (
          <>
            <dt>error</dt>
            <dd>{health.error}</dd>
          </>
        )}
      </dl>
      <p>
        API: <a href={`${apiUrl}/health`}>{`${apiUrl}/health`}</a>
      </p>
    </main>
  );
}
