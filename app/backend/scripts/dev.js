// Development server (make dev): generate the Prisma client, compile, apply the migrations,
// then TypeScript in watch mode and the server restarted whenever the compiled output changes.
import { spawn, spawnSync } from 'node:child_process';

const node = process.execPath;
const tsc = ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'];

function once(args, env = {}) {
  const r = spawnSync(node, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

const generated = once(['node_modules/prisma/build/index.js', 'generate'], {
  PRISMA_SCHEMA_ENGINE_BINARY: '/bin/true',
  CHECKPOINT_DISABLE: '1',
});
if (!generated) process.exit(1);
if (!once(tsc))
  console.error('dev: the first build failed; fix the error, the watcher picks it up');
if (!once(['dist/migrate/cli.js', 'deploy'])) console.error('dev: migrations failed (see above)');

const children = [
  spawn(node, [...tsc, '--watch', '--preserveWatchOutput'], { stdio: 'inherit' }),
  spawn(node, ['--watch-path=dist', '--watch-preserve-output', 'dist/main.js'], {
    stdio: 'inherit',
  }),
];
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => children.forEach((c) => c.kill(signal)));
}
let running = children.length;
for (const child of children) {
  child.on('exit', () => {
    running -= 1;
    if (running === 0) process.exit(0);
    children.forEach((c) => c.kill('SIGTERM'));
  });
}
