/**
 * What every answer tells browsers and caches: GraphQL answers are private to whoever asked (no-store, and
 * keyed by Authorization and Cookie), nothing may be sniffed or framed; /metrics is closed to the anonymous
 * in production; /ready asks the database at most about once a second, however often it is probed.
 */
import { apiPerConfiguration, type ApiFixture } from '../helpers/api';
import { CSRF_HEADER } from '../../src/server/cors';

const api = apiPerConfiguration();

const METRICS_TOKEN = 'metrics-secret-0123456789';

let production: ApiFixture;
let token: string;
beforeAll(async () => {
  production = await api({ NODE_ENV: 'production', METRICS_TOKEN });
  ({ token } = await production.signIn('user_headers'));
});

const post = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${production.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

function expectPrivate(res: Response) {
  expect(res.headers.get('cache-control')).toBe('private, no-store');
  const vary = (res.headers.get('vary') ?? '').split(',').map((name) => name.trim().toLowerCase());
  expect(vary).toEqual(expect.arrayContaining(['authorization', 'cookie']));
}

it('every /graphql answer is private: signed in, refused, invalid, and a cookie-authenticated GET', async () => {
  expectPrivate(await post({ query: '{ me { email } }' }, { authorization: `Bearer ${token}` }));
  expectPrivate(await post({ query: '{ me { email } }' }));
  expectPrivate(await post({ query: '{ me { nope } }' }, { authorization: `Bearer ${token}` }));
  const viaCookie = await fetch(`${production.server.url}/graphql?query=${encodeURIComponent('{ me { email } }')}`, {
    headers: { cookie: `__session=${token}`, [CSRF_HEADER]: '1', accept: 'application/json' },
  });
  expect(viaCookie.status).toBe(200);
  expect(await viaCookie.json()).toEqual({ data: { me: { email: 'user_headers@example.com' } } });
  expectPrivate(viaCookie);
});

it.each(['/graphql', '/health', '/ready', '/metrics', '/nowhere', '/webhooks/clerk'])(
  '%s says nosniff and may not be framed by any page',
  async (path) => {
    const res = await fetch(`${production.server.url}${path}`, { method: path === '/webhooks/clerk' ? 'POST' : 'GET' });
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  },
);

describe('/metrics', () => {
  it('with METRICS_TOKEN: only for its bearer', async () => {
    const url = `${production.server.url}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong-secret-0123456789' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401); // a user's token is not it
    const allowed = await fetch(url, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('opportunity_http_request_duration_seconds');
  });

  it('in production without METRICS_TOKEN: off (404); in development: open', async () => {
    const closed = await api({ NODE_ENV: 'production' });
    const res = await fetch(`${closed.server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain('opportunity_');
    const development = await api({ NODE_ENV: 'development' });
    expect((await fetch(`${development.server.url}/metrics`)).status).toBe(200);
  });
});

it('/ready asks the database at most about once a second, however often it is probed', async () => {
  const { server } = production;
  server.statements.length = 0;
  const started = Date.now();
  const answers = await Promise.all(Array.from({ length: 200 }, () => fetch(`${server.url}/ready`).then((res) => res.status)));
  // Probed for longer than two periods: whenever the answer cached before the test was computed, at least one
  // more check has to ask the database (a burst alone may be answered entirely from a check made just before).
  while (Date.now() - started < 2_200) answers.push((await fetch(`${server.url}/ready`)).status);
  expect(answers.every((status) => status === 200)).toBe(true);
  const periods = Math.ceil((Date.now() - started) / 1000) + 1;
  // Each check asks the database, then the migrations table.
  const checks = server.statements.filter((sql) => /_prisma_migrations/.test(sql));
  expect(checks.length).toBeGreaterThanOrEqual(2);
  expect(checks.length).toBeLessThanOrEqual(periods);
  expect(server.statements.filter((sql) => /^SELECT 1\b/.test(sql.trim()))).toHaveLength(checks.length);
});
