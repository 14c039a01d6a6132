// Test files log nothing unless LOG_LEVEL asks for it (the servers they start share this process's logger).
import { configureLogger, type LogLevel } from '../../src/logger';

configureLogger({ logLevel: (process.env.LOG_LEVEL as LogLevel | undefined) ?? 'silent', nodeEnv: 'test' });
