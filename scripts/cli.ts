/**
 * How every script ends: its exit code (0 unless `main` says otherwise), a configuration or argument mistake
 * as one plain line, anything else with its stack. The exit is explicit because an open pool or timer must
 * not keep a finished script alive.
 */
import { ConfigError, loadConfig, loadDotEnv } from '../src/config';
import { configureLogger } from '../src/logger';

export function runCli(main: () => Promise<number | void>): void {
  loadDotEnv();
  Promise.resolve()
    .then(() => configureLogger(loadConfig()))
    .then(main)
    .then(
      (code) => process.exit(code ?? 0),
      (error: unknown) => {
        console.error(error instanceof ConfigError ? `Configuration error: ${error.message}` : error);
        process.exit(1);
      },
    );
}
