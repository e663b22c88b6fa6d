// One JSON line per event on stdout (LOG-1): upper-case level names, ISO time, the service
// and its version on every line. Used by the HTTP app (through nestjs-pino) and the CLIs.
import { pino, stdTimeFunctions, type LoggerOptions } from 'pino';
import type { LogLevel } from '../config.js';

export function loggerOptions(level: LogLevel, version: string): LoggerOptions {
  return {
    level,
    messageKey: 'msg',
    timestamp: stdTimeFunctions.isoTime,
    base: { service: 'backend', version },
    formatters: { level: (label) => ({ level: label.toUpperCase() }) },
    redact: ['req.headers.authorization', 'req.headers.cookie', 'password', 'Token'],
  };
}

export function createLogger(level: LogLevel, version: string) {
  return pino(loggerOptions(level, version));
}
