/** `npm run docs:config`: rewrites docs/configuration.md's table of environment variables from SETTINGS. */
import path from 'node:path';
import { commandLine } from '../src/args';
import { PROJECT_ROOT } from '../src/config';
import { runCli } from './cli';
import { CONFIGURATION_DOC, writeConfigurationTable } from './support/configuration-doc';

commandLine({
  usage: 'npm run docs:config',
  help: 'Rewrites the table of environment variables in docs/configuration.md from SETTINGS (src/config/settings.ts).',
});

runCli(() => {
  writeConfigurationTable();
  console.log(`wrote the table of ${path.relative(PROJECT_ROOT, CONFIGURATION_DOC)}`);
  return Promise.resolve();
});
