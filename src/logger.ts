/**
 * Logging through pino: JSON lines (production, tests, log pipelines), or one readable line per event in
 * development (pino-pretty). `configureLogger(config)` runs once at start, after the configuration is read.
 * Each HTTP request and WebSocket operation runs inside `withRequestLogger`, so every line it causes, down to
 * the database error table, carries its request id. Tokens, cookies and passwords are redacted wherever
 * they appear in logged fields.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
type Fields = Record<string, unknown>;

const REDACTED_PATHS = ['authorization', 'cookie', 'token', 'password', 'headers.authorization', 'headers.cookie'].flatMap((path) => [
  path,
  `*.${path}`,
]);

function createBase(level: LogLevel, readable: boolean, destination?: NodeJS.WritableStream): Logger {
  const options = { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, base: undefined };
  if (readable) {
    return pino(
      options,
      pretty({ colorize: process.stdout.isTTY, singleLine: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }),
    );
  }
  return destination ? pino(options, destination) : pino(options);
}

// Until the configuration is read: everything from info, as JSON.
let base = createBase('info', false);

/** A request's fields, and its child logger once something is logged (most requests log nothing). */
interface RequestScope {
  fields: Fields;
  logger?: Logger;
}
const requestScope = new AsyncLocalStorage<RequestScope>();

/** Development gets readable lines; anything else JSON, to stdout or to `destination` (tests). */
export function configureLogger(options: { logLevel: LogLevel; nodeEnv: string }, destination?: NodeJS.WritableStream): void {
  base = createBase(options.logLevel, options.nodeEnv === 'development' && !destination, destination);
}

/** Runs `fn` with a logger that adds `fields` (a request id) to every line logged inside it. */
export function withRequestLogger<T>(fields: Fields, fn: () => T): T {
  return requestScope.run({ fields }, fn);
}

function current(): Logger {
  const scope = requestScope.getStore();
  if (!scope) return base;
  return (scope.logger ??= base.child(scope.fields));
}

/**
 * A line below the configured level returns before the request's child logger is made: yoga reports each phase
 * of every request at debug level, and making that child for each of them would cost every cheap request
 * (bench/results/2026-12-03-runs-10000.md).
 */
function at(level: Exclude<LogLevel, 'silent'>) {
  return (message: string, fields: Fields = {}) => {
    if (base.isLevelEnabled(level)) current()[level](fields, message);
  };
}

export const logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
