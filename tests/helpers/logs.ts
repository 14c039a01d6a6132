/** The servers a test file starts share its process's logger: this captures every line they log, as JSON objects. */
import { PassThrough } from 'node:stream';
import { configureLogger, type LogLevel } from '../../src/logger';

/**
 * From now until the file's tests end, every line is logged at debug level into the returned array; afterwards
 * the logger is back to the run's level (tests/setup/logger.ts).
 */
export function captureLogs(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  configureLogger({ logLevel: 'debug', nodeEnv: 'test' }, sink);
  afterAll(() => configureLogger({ logLevel: (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'silent', nodeEnv: 'test' }));
  return lines;
}
