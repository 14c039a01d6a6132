/**
 * Queries and mutations sent the common way are answered straight through yoga's envelope (src/server/
 * plain-http.ts), everything else by yoga's own handler. A client must not be able to tell which: each request
 * below is sent as it is and from a browser page on an allowed origin (the plain path, or yoga's handler when
 * the path hands it over), and again from an origin the CORS policy does not allow (which always goes to yoga's
 * handler), and the answers must be the same; the allowed origin's answers carry the CORS headers yoga gives
 * that origin's preflight. A request handed over after sign-in spends its user's request budget once.
 */
import { apiPerConfiguration, type ApiFixture } from '../helpers/api';
import { request, type RawResponse } from '../helpers/http';

const api = apiPerConfiguration();
const BOTH = 'application/graphql-response+json, application/json';
const APP_ORIGIN = 'https://app.example';

/** An answer's CORS headers. */
const corsOf = ({ headers }: RawResponse) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => name.startsWith('access-control-')));

interface Case {
  method?: 'GET' | 'POST';
  query?: string;
  body?: unknown;
  accept?: string;
  signedIn?: boolean;
}

const cases: Array<[string, Case]> = [
  ['a query', { body: { query: '{ me { clerkId starredCardCount } }' } }],
  ['a query, answered as application/json', { body: { query: '{ me { clerkId } }' }, accept: 'application/json' }],
  ['a query with no Accept header', { body: { query: '{ me { clerkId } }' }, accept: '' }],
  ['a syntax error', { body: { query: '{ me { clerkId ' } }],
  ['a field that does not exist', { body: { query: '{ me { emial } }' } }],
  ['a field that does not exist, as application/json', { body: { query: '{ me { emial } }' }, accept: 'application/json' }],
  ['a variable of the wrong type', { body: { query: 'query ($f: Int) { runs(first: $f) { totalCount } }', variables: { f: 'ten' } } }],
  ['an argument over its limit', { body: { query: '{ runs(first: 100000) { totalCount } }' } }],
  ['a run that does not exist', { body: { query: '{ run(id: "c00000000000000000000000") { id } }' } }],
  ['two operations and no operationName', { body: { query: 'query A { me { id } } query B { me { id } }' } }],
  ['no token', { body: { query: '{ me { id } }' }, signedIn: false }],
  ['a query over GET', { method: 'GET', query: `query=${encodeURIComponent('{ me { clerkId } }')}` }],
  [
    'a mutation over GET',
    { method: 'GET', query: `query=${encodeURIComponent('mutation { setCardStarred(id: "x", starred: true) { id } }')}` },
  ],
  ['GET variables that are not JSON', { method: 'GET', query: `query=${encodeURIComponent('{ me { id } }')}&variables=%7Bnot` }],
  ['an unknown documentId', { body: { documentId: 'sha256:0000' } }],
  ['neither a query nor a documentId', { body: { variables: {} } }],
  ['an unknown parameter (handed over)', { body: { query: '{ me { clerkId } }', surprise: true } }],
  ['a body that is not JSON (handed over)', { body: '{"query": ' }],
  ['a batch (handed over)', { body: [{ query: '{ me { clerkId } }' }] }],
  ['a subscription answered as JSON (handed over)', { body: { query: 'subscription { runUpdated(id: "x") { status } }' } }],
];

function send(
  url: string,
  token: string,
  { method = 'POST', query, body, accept = BOTH, signedIn = true }: Case,
  extra: Record<string, string> = {},
) {
  return request(`${url}/graphql${query ? `?${query}` : ''}`, {
    method,
    headers: {
      ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
      ...(accept ? { accept } : {}),
      ...(signedIn ? { authorization: `Bearer ${token}` } : {}),
      ...extra,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** What a client sees of an answer: status, the headers that describe the body, and the body. */
const seen = ({ status, headers, body }: RawResponse) => ({
  status,
  contentType: headers['content-type'],
  cacheControl: headers['cache-control'],
  allow: headers.allow,
  retryAfter: headers['retry-after'],
  body: headers['content-type']?.includes('json') ? (JSON.parse(body) as unknown) : body,
});

describe('plain HTTP answers as yoga does', () => {
  let fixture: ApiFixture;
  let token: string;
  let preflight: RawResponse;
  beforeAll(async () => {
    fixture = await api({ CORS_ORIGINS: APP_ORIGIN });
    ({ token } = await fixture.signIn('user_plain_http'));
    preflight = await request(`${fixture.server.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        origin: APP_ORIGIN,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
  });

  it.each(cases)('%s', async (_name, example) => {
    const plain = await send(fixture.server.url, token, example);
    const fromTheApp = await send(fixture.server.url, token, example, { origin: APP_ORIGIN });
    const throughYoga = await send(fixture.server.url, token, example, { origin: 'https://elsewhere.example' });
    expect(seen(plain)).toEqual(seen(throughYoga));
    expect(seen(fromTheApp)).toEqual(seen(throughYoga));
    expect(corsOf(fromTheApp)).toEqual(corsOf(preflight));
    expect(corsOf(plain)).toEqual({});
    expect(corsOf(throughYoga)).toEqual({});
  });
});

describe('a request handed over to yoga', () => {
  it("spends its user's request budget once", async () => {
    const fixture = await api({ RATE_LIMIT_REQUESTS_PER_MINUTE: '6' });
    const { token } = await fixture.signIn('user_handed_over'); // one permit
    const url = fixture.server.url;
    const statuses = [];
    for (const [, example] of cases.filter(([name]) => name.includes('handed over')))
      statuses.push((await send(url, token, example)).status);
    statuses.push((await send(url, token, { body: { query: '{ me { id } }' } })).status);
    expect(statuses).toHaveLength(5);
    expect(statuses).not.toContain(429);
    expect((await send(url, token, { body: { query: '{ me { id } }' } })).status).toBe(429);
  });
});
