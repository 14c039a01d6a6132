/**
 * Every log line caused by a request carries its request id (the caller's x-request-id, else a new one, sent
 * back either way), and no token, cookie or password reaches the log.
 */
import { logger, withRequestLogger } from '../../src/logger';
import { startApi, type ApiFixture } from '../helpers/api';
import { captureLogs } from '../helpers/logs';

let api: ApiFixture;
const lines = captureLogs();

beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const post = (headers: Record<string, string>) =>
  fetch(`${api.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });

it('returns the caller’s x-request-id and logs with it', async () => {
  const res = await post({ authorization: 'Bearer not-a-jwt', 'x-request-id': 'req-abc-123' });
  expect(res.status).toBe(401);
  expect(res.headers.get('x-request-id')).toBe('req-abc-123');
  const rejected = lines.find((line) => line.msg === 'rejected session token' && line.requestId === 'req-abc-123');
  expect(rejected).toBeDefined();
  expect(JSON.stringify(lines)).not.toContain('not-a-jwt');
});

it('makes one up when the caller sends none or an implausible one', async () => {
  const none = await post({});
  expect(none.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  const odd = await post({ 'x-request-id': 'has spaces and "quotes"' });
  expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

it('keeps the id across awaits, and redacts tokens, cookies and passwords wherever they are', async () => {
  await withRequestLogger({ requestId: 'scoped-1' }, async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    logger.info('inside', {
      authorization: 'Bearer secret-token',
      headers: { cookie: '__session=secret-cookie' },
      db: { password: 'secret-pw' },
      token: 'secret-t',
    });
  });
  const inside = lines.find((line) => line.msg === 'inside')!;
  expect(inside.requestId).toBe('scoped-1');
  expect(JSON.stringify(inside)).not.toMatch(/secret/);
  expect(inside).toMatchObject({
    authorization: '[redacted]',
    headers: { cookie: '[redacted]' },
    db: { password: '[redacted]' },
    token: '[redacted]',
  });
});
