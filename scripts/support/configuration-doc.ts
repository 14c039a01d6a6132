/**
 * docs/configuration.md's table of environment variables, generated from `SETTINGS` (src/config/settings.ts): the one
 * place a variable, its default and its meaning are written. `npm run docs:config` rewrites it;
 * tests/unit/config.test.ts fails when the document is not what this renders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config';
import { SETTINGS } from '../../src/config/settings';

export const CONFIGURATION_DOC = path.join(PROJECT_ROOT, 'docs', 'configuration.md');
const START = '<!-- generated from SETTINGS in src/config/settings.ts by npm run docs:config: do not edit by hand -->';
const END = '<!-- end of the generated table -->';

/** A default as the table shows it: a value in code type, words (a default that depends on others) as they are. */
function shownDefault(setting: { default: string; derived?: true }): string {
  if (setting.default === '') return '(unset)';
  return setting.derived && setting.default.includes(' ') ? setting.default : `\`${setting.default}\``;
}

export function renderConfigurationTable(): string {
  const rows = Object.entries(SETTINGS).map(
    ([name, setting]) => `| \`${name}\` | ${shownDefault(setting as { default: string; derived?: true })} | ${setting.description} |`,
  );
  return [START, '', '| variable | default | meaning |', '| --- | --- | --- |', ...rows, '', END].join('\n');
}

/** The generated part of the document as it is now, or undefined when its markers are missing. */
export function currentConfigurationTable(text = readFileSync(CONFIGURATION_DOC, 'utf8')): string | undefined {
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  return start < 0 || end < start ? undefined : text.slice(start, end + END.length);
}

/** Rewrites the generated part of docs/configuration.md. */
export function writeConfigurationTable(): void {
  const text = readFileSync(CONFIGURATION_DOC, 'utf8');
  const current = currentConfigurationTable(text);
  if (current === undefined) throw new Error(`${CONFIGURATION_DOC} has lost its markers (${START} … ${END})`);
  writeFileSync(CONFIGURATION_DOC, text.replace(current, renderConfigurationTable()));
}
