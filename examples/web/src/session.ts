/**
 * Where the page finds the API, its session token and its transport for live updates.
 *
 * The token: a page signed in with Clerk asks Clerk for it on every request (`Clerk.session.getToken()`, which
 * caches it and refreshes it before it expires) and sends it as a Bearer token: the API is on another site, so
 * Clerk's `__session` cookie never reaches it. Without Clerk this example takes a token from its address
 * (`#token=…`, from `npm run token`).
 */
interface ClerkGlobal {
  session?: { getToken(): Promise<string | null> } | null;
}

const hash = new URLSearchParams(location.hash.slice(1));

export const API_URL: string = hash.get('api') ?? (import.meta.env.VITE_API_URL as string | undefined) ?? 'http://localhost:4000/graphql';

/** `sse`: graphql-sse's single-connection mode (one stream for every subscription); `ws`: graphql-ws. */
export const TRANSPORT: 'sse' | 'ws' = hash.get('transport') === 'ws' ? 'ws' : 'sse';

export function getToken(): Promise<string | null> {
  const clerk = (window as { Clerk?: ClerkGlobal }).Clerk;
  if (clerk?.session) return clerk.session.getToken();
  return Promise.resolve(hash.get('token'));
}
