/**
 * Debian's Chromium driven by playwright-core (no browser download): the browser tests' one way to launch it.
 * Where no Chromium is installed the tests that need it are reported as skipped, with this reason printed.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

export const CHROMIUM_PATH = CANDIDATES.find((candidate) => existsSync(candidate));
export const NO_CHROMIUM = `no Chromium at ${CANDIDATES.join(', ')} (apt-get install chromium; .ci/run installs it)`;

/**
 * A headless Chromium in which the given host names resolve to 127.0.0.1 (a page can then live on another
 * site than the API, such as a preview deployment's `pr-7.preview.test`), and the given origins count as
 * secure contexts, as their https deployments would.
 */
export function launchChromium({
  hostsToLoopback = [],
  secureOrigins = [],
}: {
  hostsToLoopback?: string[];
  secureOrigins?: string[];
}): Promise<Browser> {
  const args = [
    '--headless=new',
    '--no-sandbox', // root in a container: Chromium's sandbox needs user namespaces it cannot have here
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--no-first-run',
  ];
  if (hostsToLoopback.length) args.push(`--host-resolver-rules=${hostsToLoopback.map((host) => `MAP ${host} 127.0.0.1`).join(', ')}`);
  if (secureOrigins.length) args.push(`--unsafely-treat-insecure-origin-as-secure=${secureOrigins.join(',')}`);
  const options: LaunchOptions = { executablePath: CHROMIUM_PATH, args, timeout: 60_000 };
  return chromium.launch(options);
}
