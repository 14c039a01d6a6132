/**
 * Tracing, as an operator turns it on (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT): the server (src/main.ts, its own
 * process) exports OTLP/HTTP JSON to a receiver this test starts. One request that carries a frontend's
 * `traceparent` yields one trace under that parent: the HTTP server span, the GraphQL phases, and a Prisma
 * span per SQL statement under execute. A graphql-ws subscription yields its set-up span and a refetch span
 * per change.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { RunProgressDocument } from '../graphql/generated/graphql';
import { startMain } from '../helpers/cli';
import { createRun } from '../helpers/fixtures';
import { subscribeWs, wsClient } from '../helpers/subscriptions';
import { createTestDatabase, type TestDatabase } from '../helpers/database';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

let db: TestDatabase;
let receiver: http.Server;
const spans: OtlpSpan[] = [];
let endpoint: string;

beforeAll(async () => {
  db = await createTestDatabase();
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const exported = JSON.parse(body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
      for (const resource of exported.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await db.drop();
});

it('one request under a frontend’s traceparent: HTTP span, GraphQL phases, a Prisma span per statement', async () => {
  const signer = await createSigner();
  const server = await startMain({
    DATABASE_URL: db.url,
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: endpoint,
  });
  const token = await signer.sign({ sub: 'user_traced' });
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  try {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        traceparent: `00-${traceId}-${parentId}-01`,
      },
      body: JSON.stringify({ query: 'query Traced { me { id runCount } }' }),
    });
    expect(res.status).toBe(200);
    const { data } = (await res.json()) as { data: { me: { id: string } } };
    // A subscription over graphql-ws: its set-up, and a refetch after the pipeline writes the run.
    const run = await createRun(db.prisma, data.me.id);
    const client = wsClient(`${server.url.replace('http', 'ws')}/graphql`, token);
    try {
      const sub = subscribeWs(client, RunProgressDocument, { id: run.id });
      await sub.waitFor((message) => message.data?.runUpdated.status === 'PENDING');
      await db.prisma.run.update({ where: { id: run.id }, data: { status: 'RUNNING', currentStage: 1 } });
      await sub.waitFor((message) => message.data?.runUpdated.currentStage === 1);
    } finally {
      await client.dispose();
    }
  } finally {
    expect(await server.stop()).toBe(0); // flushes what is buffered
  }
  const trace = spans.filter((span) => span.traceId === traceId);
  const byId = new Map(trace.map((span) => [span.spanId, span]));
  const ancestors = (span: OtlpSpan): string[] => {
    const parent = span.parentSpanId ? byId.get(span.parentSpanId) : undefined;
    return parent ? [parent.name, ...ancestors(parent)] : [];
  };
  const root = trace.find((span) => span.parentSpanId === parentId);
  expect(root).toMatchObject({ kind: 2, name: expect.stringMatching(/^POST/) as string });
  for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.context', 'graphql.execute Traced']) {
    const span = trace.find((candidate) => candidate.name === phase);
    expect(span).toBeDefined();
    expect(ancestors(span!).at(-1)).toBe(root!.name);
  }
  // Every SQL statement the request caused is in its trace: signing the new user in (admission), then the query.
  const statements = trace.filter((span) => span.name === 'prisma:client:db_query');
  for (const statement of statements) expect(ancestors(statement).at(-1)).toBe(root!.name);
  const under = (name: string) => statements.filter((statement) => ancestors(statement).includes(name));
  expect(under('graphql.execute Traced').length).toBeGreaterThanOrEqual(1);
  expect(under('graphql.admission').length).toBeGreaterThanOrEqual(1);
  expect(under('graphql.execute Traced').length + under('graphql.admission').length).toBe(statements.length);
  // Waiting for a pooled connection is a span of its own.
  expect(trace.some((span) => span.name === 'pg-pool.connect')).toBe(true);

  // The subscription: its set-up (with its first read), then a refetch span per change, not per message.
  expect(spans.some((span) => span.name === 'graphql.subscribe RunProgress')).toBe(true);
  const refetches = spans.filter((span) => span.name === 'subscription.refetch');
  expect(refetches.length).toBeGreaterThanOrEqual(2);
}, 90_000);
