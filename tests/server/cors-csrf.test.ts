/**
 * A page on another site must neither read a signed-in user's data nor act for them with their cookie:
 * credentialed CORS only for CORS_ORIGINS, no request executes on a cookie without a preflight-forcing header,
 * and a cookie-authenticated WebSocket only from an allowed origin.
 */
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { startApi, type ApiFixture } from '../helpers/api';
import type { TestDatabase } from '../helpers/database';
import { dataOf, postQuery } from '../helpers/graphql';
import type { TestServer } from '../helpers/server';
import type { TestSigner } from '../helpers/tokens';

const APP = 'https://app.example.com';
const EVIL = 'https://evil.example';
const CREATE_RUN = `mutation { createRun(input: { companyId: "acme", companyName: "Acme", documentName: "r.pdf",
  documentUrl: "https://x.test/r.pdf" }) { id } }`;

let db: TestDatabase;
let signer: TestSigner;
let server: TestServer;
let token: string;
let cookie: string;

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi({ NODE_ENV: 'production', CORS_ORIGINS: APP });
  ({ db, signer, server } = api);
  token = await signer.sign({ sub: 'user_cors' });
  cookie = `__session=${token}`;
  dataOf(await postQuery(server.url, '{ me { id } }', { token }));
});
afterAll(() => api.close());

const runCount = () => db.prisma.run.count();

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });

  it('a preflight from an unlisted origin gets no CORS headers (the browser then sends nothing)', async () => {
    const res = await preflight(EVIL);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('a preflight from a listed origin may send credentials', async () => {
    const res = await preflight(APP);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('a cookie request from an unlisted origin gets a response no browser lets the page read', async () => {
    const response = await postQuery(server.url, '{ me { email } }', { headers: { origin: EVIL, cookie } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await postQuery(server.url, '{ me { email } }', { headers: { origin: APP, cookie } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(APP);
  });
});

describe('CSRF', () => {
  const formPost = async (body: BodyInit, contentType?: string) => {
    const before = await runCount();
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { origin: EVIL, cookie, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    });
    expect(await runCount()).toBe(before);
    return res;
  };

  it('a form post (urlencoded) with the session cookie runs nothing: 403', async () => {
    const res = await formPost(new URLSearchParams({ query: CREATE_RUN }).toString(), 'application/x-www-form-urlencoded');
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('CSRF');
  });

  it('a multipart form post with the session cookie runs nothing: 403', async () => {
    const form = new FormData();
    form.set('operations', JSON.stringify({ query: CREATE_RUN }));
    form.set('map', '{}');
    const res = await formPost(form);
    expect(res.status).toBe(403);
  });

  it('a text/plain post and a plain GET with the cookie run nothing', async () => {
    expect((await formPost(JSON.stringify({ query: CREATE_RUN }), 'text/plain')).status).toBe(403);
    const res = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ me { email } }')}`, { headers: { cookie } });
    expect(res.status).toBe(403);
  });

  it('JSON with the cookie (preflighted by browsers), a Bearer token, or the CSRF header all work', async () => {
    expect((await postQuery(server.url, '{ me { id } }', { headers: { cookie } })).errors).toBeUndefined();
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(get.status).toBe(200);
    const withHeader = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ me { id } }')}`, {
      headers: { cookie, 'x-graphql-yoga-csrf': '1' },
    });
    expect(withHeader.status).toBe(200);
  });
});

describe('WebSocket with the session cookie', () => {
  /** Opens a graphql-ws connection authenticated only by the cookie, from `origin`; resolves with how it ended. */
  const connectWithCookie = (origin: string | undefined, connectionParams?: Record<string, string>) =>
    new Promise<{ connected: boolean; code?: number }>((resolve) => {
      const headers: Record<string, string> = { cookie, ...(origin ? { origin } : {}) };
      class CookieSocket extends WebSocket {
        constructor(url: string, protocols?: string | string[]) {
          super(url, protocols, { headers });
        }
      }
      const client = createClient({
        url: server.wsUrl,
        webSocketImpl: CookieSocket,
        retryAttempts: 0,
        lazy: false,
        onNonLazyError: () => undefined, // the refusal is what the test looks at
        connectionParams,
        on: {
          connected: () => {
            resolve({ connected: true });
            void client.dispose();
          },
          closed: (event) => resolve({ connected: false, code: (event as { code: number }).code }),
        },
      });
    });

  it('is refused (4403) from another site', async () => {
    expect(await connectWithCookie(EVIL)).toEqual({ connected: false, code: 4403 });
  });

  it('is accepted from a listed origin, from this server’s own origin, and from non-browser clients', async () => {
    expect((await connectWithCookie(APP)).connected).toBe(true);
    expect((await connectWithCookie(server.url)).connected).toBe(true);
    expect((await connectWithCookie(undefined)).connected).toBe(true);
  });

  it('a token in connectionParams works from any origin (a page cannot borrow it)', async () => {
    expect((await connectWithCookie(EVIL, { authorization: `Bearer ${token}` })).connected).toBe(true);
  });
});
