/**
 * Which requests the plain-HTTP path answers (src/server/plain-http.ts) and with which JSON type, decided from
 * the method and headers alone, as yoga's result processor would decide it (and from which origins, as the CORS
 * policy of src/server/cors.ts decides for both doors); and which parameters are plain
 * enough for it (anything else goes to yoga's handler, which answers with its own messages).
 */
import { corsPolicy } from '../../src/server/cors';
import { plainParams, plainResultType, resultTypeFor } from '../../src/server/plain-http';

describe('the JSON type of an answer, as yoga chooses it', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['application/graphql-response+json', 'application/graphql-response+json'],
    ['application/graphql-response+json, application/json', 'application/graphql-response+json'],
    ['application/json, application/graphql-response+json', 'application/json'],
    ['application/graphql-response+json;charset=utf-8, application/json', 'application/graphql-response+json'],
    ['application/graphql-response+json; charset=latin1, application/json', 'application/json'],
    ['text/event-stream, application/json', 'application/json'],
    ['application/*', 'application/json'],
    ['text/event-stream', undefined],
    ['multipart/mixed', undefined],
    ['text/html', undefined],
    ['application/json; charset=latin1', undefined],
  ])('Accept: %p → %p', (accept, expected) => {
    expect(resultTypeFor(accept)).toBe(expected);
  });
});

describe('the requests this path takes', () => {
  const json = { 'content-type': 'application/json' };
  it('POST with a JSON body, GET with credentials or the CSRF header', () => {
    expect(plainResultType('POST', json)).toBe('application/json');
    expect(plainResultType('POST', { 'content-type': 'Application/JSON; charset=UTF-8' })).toBe('application/json');
    expect(plainResultType('GET', { authorization: 'Bearer x' })).toBe('application/json');
    expect(plainResultType('GET', { 'x-graphql-yoga-csrf': '1' })).toBe('application/json');
  });

  it("from a browser too: which origins may come is the CORS policy's to say", () => {
    expect(plainResultType('POST', { ...json, origin: 'https://app.example' })).toBe('application/json');
    const cors = corsPolicy({ origins: ['https://app.example'], extraHeaders: [], allowLocalhost: false });
    expect([undefined, 'https://app.example', 'https://elsewhere.example'].map((origin) => cors.allows(origin))).toEqual([
      true,
      true,
      false,
    ]);
    expect(cors.headersFor('https://elsewhere.example')).toBeUndefined();
    expect(cors.headersFor(undefined)).toBeUndefined();
  });

  it('not other content types and methods, a bare GET, or a stream', () => {
    expect(plainResultType('POST', { 'content-type': 'application/x-www-form-urlencoded' })).toBeUndefined();
    expect(plainResultType('POST', { 'content-type': 'application/json; charset=latin1' })).toBeUndefined();
    expect(plainResultType('POST', { 'content-type': 'multipart/form-data; boundary=x' })).toBeUndefined();
    expect(plainResultType('POST', {})).toBeUndefined();
    expect(plainResultType('GET', {})).toBeUndefined();
    expect(plainResultType('PUT', json)).toBeUndefined();
    expect(plainResultType('OPTIONS', json)).toBeUndefined();
    expect(plainResultType('POST', { ...json, accept: 'text/event-stream' })).toBeUndefined();
  });
});

describe('plain parameters', () => {
  it('the standard ones and documentId, each of its type', () => {
    const params = { query: '{ me { id } }', variables: { a: 1 }, operationName: 'Me', extensions: {}, documentId: 'sha256:x' };
    expect(plainParams(params)).toBe(params);
    expect(plainParams({ query: '{ __typename }', variables: null, operationName: null })).toBeDefined();
    expect(plainParams({ documentId: 'abc' })).toBeDefined();
  });

  it.each([
    ['an array (a batch)', [{ query: '{ __typename }' }]],
    ['a string', '{ __typename }'],
    ['null', null],
    ['an unknown parameter', { query: '{ __typename }', extra: 1 }],
    ['a query that is not a string', { query: 1 }],
    ['variables that are not an object', { query: '{ __typename }', variables: [1] }],
    ['an operation name that is not a string', { query: '{ __typename }', operationName: 2 }],
    ['extensions that are not an object', { query: '{ __typename }', extensions: 'x' }],
    ['a documentId that is not a string', { documentId: 5 }],
  ])('not %s', (_name, value) => {
    expect(plainParams(value)).toBeUndefined();
  });
});
