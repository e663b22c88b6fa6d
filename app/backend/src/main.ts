// Entry point: `node dist/main.js` (container port 3001, metrics on METRICS_PORT 9464). SIGTERM
// closes the server after the requests in flight, then the metrics listener, disconnects the
// database and exits 0 (the release drains first).
import 'reflect-metadata';
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(
      JSON.stringify({ level: 'ERROR', time: new Date().toISOString(), msg: err.message }) + '\n',
    );
    process.exit(2);
  }
  const app = await createApp(config);
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  await app.listen(config.port, '0.0.0.0');
}

await main();
