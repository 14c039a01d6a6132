/**
 * Where the examples find the API and their token. In a Next.js app the token comes from Clerk
 * (`const { getToken } = useAuth()` in a component, `(await auth()).getToken()` on the server); here it is a
 * development token: TOKEN when set, else one signed by `npm run token` (the server must trust development
 * tokens: not production, no Clerk keys).
 */
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

// The examples take no flags: --help says what they do and how to point them elsewhere; anything else is a mistake.
try {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    console.log(
      'usage: npm run example:apollo | example:urql\n\nStarts a run, follows it live until it finishes, lists your newest runs and stars a card.\n' +
        'API_URL (default http://localhost:4000/graphql) says where the API is; TOKEN, which session token to send\n' +
        '(default: one from `npm run token`).',
    );
    process.exit(0);
  }
} catch (error) {
  console.error(`${(error as Error).message.split(/\.\s/)[0]}; usage: npm run example:apollo | example:urql`);
  process.exit(2);
}

export const API_URL = process.env.API_URL ?? 'http://localhost:4000/graphql';
export const WS_URL = API_URL.replace(/^http/, 'ws');

let devToken = process.env.TOKEN;

export function getToken(): Promise<string> {
  devToken ??= execFileSync('npm', ['run', '--silent', 'token', '--', '--raw'], { encoding: 'utf8' }).trim();
  return Promise.resolve(devToken);
}
