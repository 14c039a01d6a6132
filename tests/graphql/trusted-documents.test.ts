/**
 * Trusted documents against a production server that loads the tests' manifest (codegen's
 * persisted-documents.json): listed documents run by id over HTTP (POST, GET), SSE (both of graphql-sse's modes)
 * and graphql-ws; text and unknown ids are refused on each, saying what to do. A development server stays open and answers an
 * unknown id the way automatic-persisted-queries clients expect. A production server without manifests, or
 * with a broken one, does not start.
 */
import { createClient as createSseClient, type Client as SseClient } from 'graphql-sse';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { MeDocument, RunProgressDocument } from './generated/graphql';
import { apiPerConfiguration, type ApiFixture } from '../helpers/api';
import { createRun } from '../helpers/fixtures';
import { startTestServer } from '../helpers/server';
import { TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';

const MANIFEST = 'tests/graphql/generated/persisted-documents.json';
const api = apiPerConfiguration();
const idOf = (document: { __meta__?: Record<string, unknown> }) => String(document.__meta__!.hash);

let trusted: ApiFixture;
let token: string;
let userId: string;
beforeAll(async () => {
  trusted = await api({ NODE_ENV: 'production', TRUSTED_DOCUMENTS: MANIFEST, ALLOW_ARBITRARY_DOCUMENTS: '' });
  ({ token, userId } = await signInByDocument(trusted));
});

/** Signs a new user in by the listed `Me` document (the server creates the user on its first request). */
async function signInByDocument(fixture: ApiFixture) {
  const signed = await fixture.signer.sign({ expiresIn: 3600 });
  const body = await post(fixture, { documentId: idOf(MeDocument) }, signed);
  return { token: signed, userId: (body.json as { data: { me: { id: string } } }).data.me.id };
}

async function post(fixture: ApiFixture, body: Record<string, unknown>, bearer = token, accept = 'application/json') {
  const res = await fetch(`${fixture.server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept, authorization: `Bearer ${bearer}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text, json: accept === 'application/json' ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const codeOf = (json: Record<string, unknown> | undefined) =>
  (json?.errors as Array<{ extensions?: { code?: string } }> | undefined)?.[0]?.extensions?.code;

describe('HTTP', () => {
  it('a listed document runs by documentId, by Apollo’s persistedQuery extension, and by GET', async () => {
    const byId = await post(trusted, { documentId: idOf(MeDocument) });
    expect(byId.json).toMatchObject({ data: { me: { id: userId } } });
    const byExtension = await post(trusted, { extensions: { persistedQuery: { version: 1, sha256Hash: idOf(MeDocument) } } });
    expect(byExtension.json).toMatchObject({ data: { me: { id: userId } } });
    const byGet = await fetch(`${trusted.server.url}/graphql?documentId=${encodeURIComponent(idOf(MeDocument))}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    expect(await byGet.json()).toMatchObject({ data: { me: { id: userId } } });
  });

  it('a listed id wins over text sent beside it', async () => {
    const response = await post(trusted, { documentId: idOf(MeDocument), query: '{ __typename }' });
    expect(response.json).toMatchObject({ data: { me: { id: userId } } });
  });

  it('a document sent as text is refused with 400 PERSISTED_DOCUMENT_REQUIRED, saying what to do; nothing runs', async () => {
    trusted.server.statements.length = 0;
    const response = await post(trusted, { query: MeDocument.toString() });
    expect(response.status).toBe(400);
    expect(codeOf(response.json)).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect(response.text).toMatch(/send documentId .*\(TRUSTED_DOCUMENTS\)/);
    expect(trusted.server.statements.filter((sql) => !sql.includes('RateLimitCounter'))).toEqual([]);
  });

  it('an id that is not listed is 400 PERSISTED_DOCUMENT_NOT_FOUND', async () => {
    const response = await post(trusted, { documentId: 'sha256:0000' });
    expect(response.status).toBe(400);
    expect(codeOf(response.json)).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    expect(response.text).toMatch(/Publish the frontend's manifest/);
  });
});

describe('SSE', () => {
  it('a subscription runs by id; its text is refused', async () => {
    const run = await createRun(trusted.db.prisma, userId);
    const controller = new AbortController();
    const res = await fetch(`${trusted.server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ documentId: idOf(RunProgressDocument), variables: { id: run.id } }),
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = '';
    while (!received.includes('"status":"PENDING"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended: ${received}`);
      received += new TextDecoder().decode(value);
    }
    controller.abort();

    const text = await post(trusted, { query: RunProgressDocument.toString(), variables: { id: run.id } }, token, 'text/event-stream');
    expect(text.text).toMatch(/PERSISTED_DOCUMENT_REQUIRED/);
  });
  it('graphql-sse’s single-connection mode lives at /graphql/stream: a PUT reservation at /graphql is 405', async () => {
    const res = await fetch(`${trusted.server.url}/graphql`, { method: 'PUT', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(405);
  });
});

type Payload = { query: string; variables: Record<string, unknown>; extensions?: Record<string, unknown> };

/** The first message (or the errors) a subscription gets from a graphql-sse or graphql-ws client, which is then disposed. */
function firstMessage(client: SseClient<boolean> | WsClient, payload: Payload): Promise<{ data?: unknown; errors?: unknown }> {
  return new Promise<{ data?: unknown; errors?: unknown }>((resolve) => {
    const stop = client.subscribe(payload, {
      next: (message) => {
        stop();
        resolve(message);
      },
      error: (errors) => resolve({ errors }),
      complete: () => undefined,
    });
  }).finally(() => client.dispose());
}

describe('SSE, single connection (/graphql/stream)', () => {
  const subscribe = (payload: Payload) =>
    firstMessage(
      createSseClient({
        url: `${trusted.server.url}/graphql/stream`,
        singleConnection: true,
        headers: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      }),
      payload,
    );

  it('a subscription runs by id; text or an unknown id is refused on that operation', async () => {
    const run = await createRun(trusted.db.prisma, userId);
    const extensions = { persistedQuery: { version: 1, sha256Hash: idOf(RunProgressDocument) } };
    expect(await subscribe({ query: '', variables: { id: run.id }, extensions })).toMatchObject({
      data: { runUpdated: { id: run.id, status: 'PENDING' } },
    });
    expect(JSON.stringify(await subscribe({ query: RunProgressDocument.toString(), variables: { id: run.id } }))).toMatch(
      /PERSISTED_DOCUMENT_REQUIRED/,
    );
    const unknown = { persistedQuery: { version: 1, sha256Hash: 'sha256:0000' } };
    expect(JSON.stringify(await subscribe({ query: '', variables: { id: run.id }, extensions: unknown }))).toMatch(
      /PERSISTED_DOCUMENT_NOT_FOUND/,
    );
  });
});

describe('graphql-ws', () => {
  const subscribe = (payload: Payload) =>
    firstMessage(
      createClient({
        url: trusted.server.wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: { authorization: `Bearer ${token}` },
        retryAttempts: 0,
      }),
      payload,
    );

  it('a subscription runs by id (the text beside it, as Apollo’s link sends it, is not what runs)', async () => {
    const run = await createRun(trusted.db.prisma, userId);
    const extensions = { persistedQuery: { version: 1, sha256Hash: idOf(RunProgressDocument) } };
    expect(await subscribe({ query: '', variables: { id: run.id }, extensions })).toMatchObject({
      data: { runUpdated: { id: run.id, status: 'PENDING' } },
    });
    expect(await subscribe({ query: 'subscription { runsUpdated { id } }', variables: { id: run.id }, extensions })).toMatchObject({
      data: { runUpdated: { id: run.id } },
    });
  });

  it('text, or an unknown id, is refused on that operation', async () => {
    const run = await createRun(trusted.db.prisma, userId);
    expect(JSON.stringify(await subscribe({ query: RunProgressDocument.toString(), variables: { id: run.id } }))).toMatch(
      /PERSISTED_DOCUMENT_REQUIRED/,
    );
    const unknown = { persistedQuery: { version: 1, sha256Hash: 'sha256:0000' } };
    expect(JSON.stringify(await subscribe({ query: '', variables: { id: run.id }, extensions: unknown }))).toMatch(
      /PERSISTED_DOCUMENT_NOT_FOUND/,
    );
  });
});

describe('development', () => {
  it('stays open, and answers an unknown id with PersistedQueryNotFound so an APQ client sends the text', async () => {
    const open = await api({});
    const { token: own } = await open.signIn();
    const unknown = { extensions: { persistedQuery: { version: 1, sha256Hash: 'abc123' } } };
    const first = await post(open, unknown, own);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      errors: [{ message: 'PersistedQueryNotFound', extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' } }],
    });
    const withText = (await post(open, { ...unknown, query: '{ me { email } }' }, own)).json as { data?: { me?: { email?: string } } };
    expect(withText.data?.me?.email).toMatch(/@example\.com$/);
  });
});

describe('start-up', () => {
  const production = (db: string, env: NodeJS.ProcessEnv) =>
    startTestServer(db, {
      NODE_ENV: 'production',
      CLERK_JWT_KEY: trusted.signer.publicKeyPem,
      CLERK_ISSUER: TEST_ISSUER,
      CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
      ...env,
    });

  it('production without TRUSTED_DOCUMENTS (or ALLOW_ARBITRARY_DOCUMENTS=true) refuses to start, naming them', async () => {
    await expect(production(trusted.db.url, {})).rejects.toThrow(
      /TRUSTED_DOCUMENTS is required when NODE_ENV=production.*ALLOW_ARBITRARY_DOCUMENTS=true/,
    );
  });

  it('a manifest that is missing or not one refuses to start, naming the file', async () => {
    await expect(production(trusted.db.url, { TRUSTED_DOCUMENTS: 'tests/nothing-here.json' })).rejects.toThrow(
      /nothing-here\.json is not a persisted-document manifest/,
    );
    await expect(production(trusted.db.url, { TRUSTED_DOCUMENTS: 'package.json' })).rejects.toThrow(
      /package\.json is not a persisted-document manifest/,
    );
  });
});
