/**
 * Where the examples find the API and their token. In a Next.js app the token comes from Clerk
 * (`const { getToken } = useAuth()` in a component, `(await auth()).getToken()` on the server); here it is a
 * development token: TOKEN when set, else one signed by `npm run token` (the server must trust development
 * tokens: not production, no Clerk keys).
 */
import { execFileSync } from 'node:child_process';

export const API_URL = process.env.API_URL ?? 'http://localhost:4000/graphql';
export const WS_URL = API_URL.replace(/^http/, 'ws');

let devToken = process.env.TOKEN;

export function getToken(): Promise<string> {
  devToken ??= execFileSync('npm', ['run', '--silent', 'token', '--', '--raw'], { encoding: 'utf8' }).trim();
  return Promise.resolve(devToken);
}
