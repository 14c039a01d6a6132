/**
 * A small leveled logger: one line per event, `key=value` context, JSON in production so log pipelines can
 * parse it. `LOG_LEVEL` (debug|info|warn|error|silent) filters; tests run with `silent` unless asked.
 */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;
type Fields = Record<string, unknown>;

function levelFromEnv(): LogLevel {
  const raw = process.env.LOG_LEVEL?.trim().toLowerCase();
  if (raw && raw in LEVELS) return raw as LogLevel;
  return process.env.NODE_ENV === 'test' ? 'silent' : 'info';
}

const json = process.env.NODE_ENV === 'production';
let threshold = LEVELS[levelFromEnv()];

function format(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

function write(level: Exclude<LogLevel, 'silent'>, message: string, fields?: Fields): void {
  if (LEVELS[level] < threshold) return;
  const stream = level === 'error' || level === 'warn' ? process.stderr : process.stdout;
  if (json) {
    const record: Fields = { time: new Date().toISOString(), level, msg: message, ...fields };
    if (fields?.err instanceof Error) record.err = { message: fields.err.message, stack: fields.err.stack };
    stream.write(`${JSON.stringify(record)}\n`);
    return;
  }
  const entries = Object.entries(fields ?? {}).filter(([, v]) => v !== undefined);
  const context = entries.map(([k, v]) => `${k}=${v instanceof Error ? JSON.stringify(v.message) : format(v)}`).join(' ');
  // Stacks go on their own lines, readable in a terminal.
  const stacks = entries
    .filter(([, v]) => v instanceof Error && v.stack)
    .map(([, v]) => {
      const stack = (v as Error).stack ?? '';
      const frames = stack
        .slice(stack.indexOf('\n    at ') + 1)
        .split('\n')
        .slice(0, 6);
      return `\n    ${frames.map((f) => f.trim()).join('\n    ')}`;
    })
    .join('');
  stream.write(`${level.toUpperCase().padEnd(5)} ${message}${context ? ` ${context}` : ''}${stacks}\n`);
}

export const logger = {
  debug: (message: string, fields?: Fields) => write('debug', message, fields),
  info: (message: string, fields?: Fields) => write('info', message, fields),
  warn: (message: string, fields?: Fields) => write('warn', message, fields),
  error: (message: string, fields?: Fields) => write('error', message, fields),
  setLevel(level: LogLevel) {
    threshold = LEVELS[level];
  },
};
