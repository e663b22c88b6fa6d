// Injection token of the AppConfig (a plain object, so it needs one).
export const APP_CONFIG = Symbol('APP_CONFIG');
// Names of the migrations this release ships (prisma/migrations), in order.
export const MIGRATIONS = Symbol('MIGRATIONS');
