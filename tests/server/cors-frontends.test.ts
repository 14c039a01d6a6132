/**
 * CORS as real browser frontends need it (tests/browser/ drives Chromium through the same rules): the headers
 * tracing, error reporting and request ids add are allowed (and more by CORS_ALLOWED_HEADERS), the request id and
 * Retry-After are readable, preview deployments match an origin pattern (`https://*.preview.example.app`) but
 * nothing else does, localhost origins work outside production without configuration, and a refused origin is
 * logged once, naming CORS_ORIGINS.
 */
import { ConfigError, loadConfig } from '../../src/config';
import { apiPerConfiguration } from '../helpers/api';
import { captureLogs } from '../helpers/logs';

const logs = captureLogs();
const api = apiPerConfiguration();

const APP = 'https://app.example.com';
const INSTRUMENTED = ['traceparent', 'tracestate', 'baggage', 'x-request-id', 'sentry-trace'];

const preflight = (url: string, origin: string, headers = 'authorization, content-type') =>
  fetch(`${url}/graphql`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': headers },
  });

describe('in production, with origins, a pattern and an extra header configured', () => {
  const production = () =>
    api({ NODE_ENV: 'production', CORS_ORIGINS: `${APP}, https://*.preview.example.app`, CORS_ALLOWED_HEADERS: 'X-Tenant-Id' });

  it('a preview deployment may send the headers tracing and request ids add, and read the request id and Retry-After', async () => {
    const { server, signer } = await production();
    const origin = 'https://pr-12.preview.example.app';
    const asked = ['authorization', 'content-type', 'idempotency-key', 'x-graphql-event-stream-token', ...INSTRUMENTED, 'x-tenant-id'];
    const res = await preflight(server.url, origin, asked.join(', '));
    expect(res.headers.get('access-control-allow-origin')).toBe(origin);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const allowed = res.headers.get('access-control-allow-headers')!.split(', ');
    for (const header of asked) expect(allowed).toContain(header);

    const token = await signer.sign({ sub: 'user_preview' });
    const answer = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        origin,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'x-request-id': 'page-1234',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
    expect(answer.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
    expect(answer.headers.get('x-request-id')).toBe('page-1234');
  });

  it.each([
    ['the pattern without a subdomain', 'https://preview.example.app'],
    ['another scheme', 'http://pr-12.preview.example.app'],
    ['another port', 'https://pr-12.preview.example.app:8443'],
    ['a longer host', 'https://pr-12.preview.example.app.evil.example'],
    ['a host that only ends like it', 'https://evilpreview.example.app'],
    ['localhost, in production', 'http://localhost:3000'],
  ])('%s gets no CORS headers: %s', async (_label, origin) => {
    const { server } = await production();
    const res = await preflight(server.url, origin);
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a refused origin is logged once, naming CORS_ORIGINS', async () => {
    const { server } = await production();
    const origin = 'https://unlisted.example.org';
    for (let i = 0; i < 3; i++) await preflight(server.url, origin);
    const lines = logs.filter((line) => line.origin === origin);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'refused a browser origin: add it to CORS_ORIGINS (exact, or https://*.domain for every subdomain)',
    });
  });
});

describe('outside production, without configuration', () => {
  it('localhost origins, any port, are allowed; others are not', async () => {
    const { server } = await api();
    for (const origin of ['http://localhost:3000', 'http://127.0.0.1:5173', 'https://localhost:8443']) {
      expect((await preflight(server.url, origin)).headers.get('access-control-allow-origin')).toBe(origin);
    }
    expect((await preflight(server.url, APP)).headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS_ORIGINS', () => {
  it.each(['*', 'https://*', 'https://app.*.example.com', '*.example.com'])('refuses %p at start, naming the variable', (value) => {
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(ConfigError);
    expect(() => loadConfig({ CORS_ORIGINS: value })).toThrow(/^CORS_ORIGINS must be comma-separated origins/);
  });
});
