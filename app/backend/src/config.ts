// The backend's settings, read once from the environment (the role's backend.env, the dev
// .env file, or the CI job). Bad values stop the start with a message naming the variable.
import { readFileSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type MailTransport =
  | { kind: 'disabled' }
  | { kind: 'log' }
  | {
      kind: 'smtp';
      host: string;
      port: number;
      secure: boolean;
      user?: string;
      password?: string;
    };

export interface MailConfig {
  transport: MailTransport;
  from: string;
  /** When set, every message goes to this mailbox instead of its recipients (staging, dev). */
  redirectTo?: string;
}

export interface PaymentsConfig {
  terminalKey: string;
  password: string;
}

/**
 * The Prometheus listener (src/metrics/): a port of its own, never proxied by nginx. With a
 * password, every request needs HTTP basic auth with exactly `user` and `password`.
 */
export interface MetricsConfig {
  /** 0: no listener and no metrics. */
  port: number;
  user: string;
  password?: string;
}

export interface AppConfig {
  version: string;
  env: string;
  port: number;
  metrics: MetricsConfig;
  logLevel: LogLevel;
  databaseUrl: string;
  /** Absent when the payment gateway is not configured: the webhook then answers 503. */
  payments?: PaymentsConfig;
  mail: MailConfig;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const EMAIL_RE = /^[^\s@<>]+@[^\s@<>]+$/;

function value(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function required(env: Env, name: string, why: string): string {
  const v = value(env, name);
  if (v === undefined) throw new ConfigError(`${name} is not set: ${why}`);
  return v;
}

function port(env: Env, name: string, fallback: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    throw new ConfigError(`${name}=${raw} is not a TCP port (1-65535)`);
  }
  return n;
}

function metricsPort(env: Env): number {
  const raw = value(env, 'METRICS_PORT');
  if (raw === undefined) return 9464;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new ConfigError(`METRICS_PORT=${raw} is not a TCP port (1-65535) or 0 (no listener)`);
  }
  return n;
}

function metricsUser(env: Env): string {
  const user = value(env, 'METRICS_USER') ?? 'prometheus';
  // RFC 7617: the user-id of basic auth cannot contain a colon.
  if (user.includes(':')) throw new ConfigError(`METRICS_USER=${user} contains a colon`);
  return user;
}

function email(env: Env, name: string, fallback?: string): string | undefined {
  const v = value(env, name) ?? fallback;
  if (v !== undefined && !EMAIL_RE.test(v)) {
    throw new ConfigError(`${name}=${v} is not an e-mail address`);
  }
  return v;
}

export function parseLogLevel(raw: string | undefined): LogLevel {
  const level = (raw ?? 'info').trim().toLowerCase();
  if (level === 'warning') return 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL=${raw} is not one of DEBUG, INFO, WARN, ERROR`);
  }
  return level as LogLevel;
}

function mailTransport(env: Env): MailTransport {
  const provider = (value(env, 'EMAIL_PROVIDER') ?? '').toLowerCase();
  switch (provider) {
    case '':
    case 'none':
      return { kind: 'disabled' };
    case 'log':
      return { kind: 'log' };
    case 'smtp': {
      const secure = value(env, 'SMTP_SECURE') === 'true';
      return {
        kind: 'smtp',
        host: required(env, 'SMTP_HOST', 'EMAIL_PROVIDER=smtp needs the SMTP server'),
        port: port(env, 'SMTP_PORT', secure ? 465 : 587),
        secure,
        user: value(env, 'SMTP_USER'),
        password: value(env, 'SMTP_PASSWORD'),
      };
    }
    case 'sendgrid':
      // SendGrid's SMTP relay: user "apikey", the API key as password (SMTP_* override it).
      return {
        kind: 'smtp',
        host: value(env, 'SMTP_HOST') ?? 'smtp.sendgrid.net',
        port: port(env, 'SMTP_PORT', 587),
        secure: value(env, 'SMTP_SECURE') === 'true',
        user: value(env, 'SMTP_USER') ?? 'apikey',
        password:
          value(env, 'SMTP_PASSWORD') ??
          required(env, 'EMAIL_API_KEY', 'EMAIL_PROVIDER=sendgrid sends with the API key'),
      };
    default:
      throw new ConfigError(`EMAIL_PROVIDER=${provider} is not one of smtp, sendgrid, log, none`);
  }
}

function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'mvp-backend' && pkg.version) return pkg.version;
    } catch {
      // not at this level of the tree (dist/ in images, build/src/ in tests)
    }
  }
  return '0.0.0';
}

export function loadConfig(env: Env = process.env): AppConfig {
  const terminalKey = value(env, 'PAYMENT_TERMINAL_KEY');
  const password = value(env, 'PAYMENT_PASSWORD');
  if ((terminalKey === undefined) !== (password === undefined)) {
    throw new ConfigError(
      'PAYMENT_TERMINAL_KEY and PAYMENT_PASSWORD are set together or not at all',
    );
  }
  const apiPort = port(env, 'PORT', 3001);
  const metrics = {
    port: metricsPort(env),
    user: metricsUser(env),
    password: value(env, 'METRICS_PASSWORD'),
  };
  if (metrics.port === apiPort) {
    throw new ConfigError(`METRICS_PORT=${metrics.port} is the API's port (PORT): use another`);
  }
  return {
    version: value(env, 'APP_VERSION') ?? packageVersion(),
    env: value(env, 'APP_ENV') ?? 'development',
    port: apiPort,
    metrics,
    logLevel: parseLogLevel(env.LOG_LEVEL),
    databaseUrl: required(env, 'DATABASE_URL', 'the backend needs its PostgreSQL database'),
    payments: terminalKey && password ? { terminalKey, password } : undefined,
    mail: {
      transport: mailTransport(env),
      from: email(env, 'EMAIL_FROM', 'noreply@localhost') ?? 'noreply@localhost',
      redirectTo: email(env, 'EMAIL_REDIRECT_TO'),
    },
  };
}
