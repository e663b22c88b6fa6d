import { fileURLToPath } from 'node:url';

// Tests are compiled to build/test/...; the backend's root is three levels up from here.
export const backendRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const migrationsDir = fileURLToPath(new URL('../../../prisma/migrations', import.meta.url));
