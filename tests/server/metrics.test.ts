/** GET /metrics: Prometheus text with request and GraphQL phase histograms, error counts and live gauges. */
import { MeDocument, RunProgressDocument, RunsDocument } from '../graphql/generated/graphql';
import { startApi, type ApiFixture } from '../helpers/api';
import { execute } from '../helpers/graphql';

let api: ApiFixture;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const scrape = async () => {
  const res = await fetch(`${api.server.url}/metrics`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
};
const valueOf = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('times requests by route and status, GraphQL operations and their phases, and reports the pool', async () => {
  const { token } = await api.signIn();
  await fetch(`${api.server.url}/health`);
  await fetch(`${api.server.url}/nowhere/secret-123`);
  await execute(api.server.url, MeDocument, {}, { token });
  await execute(api.server.url, MeDocument, {}); // 401, refused before it executes
  await execute(api.server.url, RunsDocument, { first: -1 }, { token }); // executes, and fails
  const text = await scrape();
  const requests = 'opportunity_http_request_duration_seconds_count';
  expect(valueOf(text, `${requests}{route="/health",method="GET",status="200"}`)).toBe(1);
  expect(valueOf(text, `${requests}{route="other",method="GET",status="404"}`)).toBe(1);
  expect(text).not.toContain('secret-123'); // unknown paths are not labels
  expect(valueOf(text, `${requests}{route="/graphql",method="POST",status="401"}`)).toBe(1);
  expect(text).toContain('opportunity_http_request_duration_seconds_bucket{le="0.005",route="/health",method="GET",status="200"}');
  // Operations that executed (the 401 never did), their phases as histograms, their errors.
  expect(valueOf(text, 'graphql_envelop_phase_execute_count{operationType="query"}')).toBeGreaterThanOrEqual(3);
  // One series per measurement: execution is timed once, HTTP requests once.
  expect(text).not.toMatch(/^graphql_envelop_request|^graphql_yoga_http_duration/m);
  expect(text).toMatch(/graphql_envelop_error_result\{[^}]*phase="execute"[^}]*\} 1/);
  expect(text).not.toMatch(/operationName=/); // client-chosen names are not labels
  expect(valueOf(text, 'opportunity_run_events_listening')).toBe(1);
  expect(valueOf(text, 'opportunity_db_pool_connections{state="waiting"}')).toBe(0);
  expect(valueOf(text, 'opportunity_db_pool_connections{state="idle"}')).toBeGreaterThan(0);
  expect(valueOf(text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
});

it('shows open WebSocket connections and active subscriptions', async () => {
  const { client, sub } = await api.followNewRun(RunProgressDocument);
  try {
    const during = await scrape();
    expect(valueOf(during, 'opportunity_websocket_connections')).toBe(1);
    expect(valueOf(during, 'opportunity_subscription_watchers')).toBe(1);
    sub.unsubscribe();
  } finally {
    await client.dispose();
  }
  for (let i = 0; i < 500 && valueOf(await scrape(), 'opportunity_subscription_watchers') !== 0; i++)
    await new Promise((r) => setTimeout(r, 10));
  expect(valueOf(await scrape(), 'opportunity_subscription_watchers')).toBe(0);
});
