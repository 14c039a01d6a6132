/**
 * The Next.js recipe's Apollo set-up (examples/nextjs/lib/apollo: the cache's type policies, the link, what a
 * change does to the cached lists) with a real Apollo Client against a production server that runs only the
 * recipe's trusted documents. Pages fetched with fetchMore append to one list; a run from runsUpdated enters
 * the lists it belongs to at its place and leaves those it no longer matches; a deleted run (by this client, or
 * elsewhere) leaves every list and the cache. The React components around these are type-checked
 * (`npm run typecheck`).
 */
import { ApolloClient, InMemoryCache } from '@apollo/client';
import WebSocket from 'ws';
import { cacheConfig } from '../examples/nextjs/lib/apollo/cache';
import { createLink } from '../examples/nextjs/lib/apollo/link';
import { deletedRunIdOf, placeRun, removeRun } from '../examples/nextjs/lib/apollo/run-lists';
import {
  DashboardDeleteRunDocument,
  DashboardRunsChangedDocument,
  DashboardRunsDocument,
  DashboardStartRunDocument,
} from '../examples/nextjs/lib/operations';
import type { DashboardRunsQuery, RunStatus } from '../examples/nextjs/generated/graphql';
import { startApi, startProductionServer, type ApiFixture } from './helpers/api';
import { createRun, createUser } from './helpers/fixtures';
import type { TestServer } from './helpers/server';

let api: ApiFixture;
let production: TestServer;
const clients: ApolloClient[] = [];

beforeAll(async () => {
  api = await startApi();
  production = await startProductionServer(api, 'examples/nextjs/generated/persisted-documents.json');
});
afterAll(async () => {
  for (const client of clients) client.stop();
  await production.close();
  await api.close();
});

/** A new user with runs created `minutesAgo` (newest first), and the recipe's client signed in as them. */
async function dashboardOf(clerkId: string, minutesAgo: number[]) {
  const { id: userId } = await createUser(api.db.prisma, { clerkId });
  const runs = [];
  for (const minutes of minutesAgo)
    runs.push(await createRun(api.db.prisma, userId, { createdAt: new Date(Date.now() - minutes * 60_000) }));
  const token = await api.signer.sign({ sub: clerkId, expiresIn: 3600 });
  const client = new ApolloClient({
    cache: new InMemoryCache(cacheConfig),
    link: createLink({ apiUrl: `${production.url}/graphql`, getToken: () => Promise.resolve(token), webSocketImpl: WebSocket }),
  });
  clients.push(client);
  return { userId, runs, client };
}

const listed = (client: ApolloClient, variables: { first: number; status?: RunStatus }) => {
  const data = client.readQuery({ query: DashboardRunsDocument, variables });
  return data && { ids: data.runs.edges.map((edge) => edge.node.id), totalCount: data.runs.totalCount, pageInfo: data.runs.pageInfo };
};

async function until<T>(read: () => T, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 500; i++) {
    const value = read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`never reached: ${JSON.stringify(read())}`);
}

/** The component's runsUpdated handler, subscribed; resolves once the server holds the subscription. */
async function followChanges(client: ApolloClient, userId: string) {
  const subscription = client.subscribe({ query: DashboardRunsChangedDocument, errorPolicy: 'all' }).subscribe(({ data, error }) => {
    if (data) return placeRun(client.cache, data.runsUpdated);
    const deleted = deletedRunIdOf(error);
    if (deleted) removeRun(client.cache, deleted);
  });
  await until(
    () => production.subscriptions.openOf(userId),
    (open) => open === 1,
  );
  return subscription;
}

const pipeline = (runId: string, status: string, stage: number) =>
  api.db.sql.query(`UPDATE "Run" SET status = $2::"RunStatus", "currentStage" = $3, "updatedAt" = now() WHERE id = $1`, [
    runId,
    status,
    stage,
  ]);

it('relayStylePagination: each fetchMore appends the next page to the one list, newest first', async () => {
  const { runs, client } = await dashboardOf('user_next_pages', [1, 2, 3, 4, 5]);
  const query = client.watchQuery({ query: DashboardRunsDocument, variables: { first: 2 } });
  const first = await new Promise<DashboardRunsQuery>((resolve, reject) => {
    const subscription = query.subscribe({
      next: ({ data, dataState }) => {
        if (dataState !== 'complete') return;
        subscription.unsubscribe();
        resolve(data);
      },
      error: reject,
    });
  });
  expect(first.runs.edges.map((edge) => edge.node.id)).toEqual([runs[0]!.id, runs[1]!.id]);
  await query.fetchMore({ variables: { after: first.runs.pageInfo.endCursor } });
  expect(listed(client, { first: 2 })).toMatchObject({ ids: runs.slice(0, 4).map((run) => run.id), pageInfo: { hasNextPage: true } });
  await query.fetchMore({ variables: { after: listed(client, { first: 2 })!.pageInfo.endCursor } });
  expect(listed(client, { first: 2 })).toMatchObject({ ids: runs.map((run) => run.id), totalCount: 5, pageInfo: { hasNextPage: false } });
});

it('runsUpdated: a new run enters the lists it matches, a changed one moves between status lists', async () => {
  const { userId, runs, client } = await dashboardOf('user_next_live', [10, 20]);
  await client.query({ query: DashboardRunsDocument, variables: { first: 20 } });
  await client.query({ query: DashboardRunsDocument, variables: { first: 20, status: 'RUNNING' } });
  const subscription = await followChanges(client, userId);
  try {
    // Created elsewhere (another tab, the pipeline): it enters the unfiltered list at the top, not RUNNING's.
    const created = await createRun(api.db.prisma, userId);
    const all = await until(
      () => listed(client, { first: 20 }),
      (list) => list?.ids[0] === created.id,
    );
    expect(all).toMatchObject({ ids: [created.id, runs[0]!.id, runs[1]!.id], totalCount: 3 });
    expect(listed(client, { first: 20, status: 'RUNNING' })).toMatchObject({ ids: [], totalCount: 0 });

    // RUNNING: it enters RUNNING's list; the unfiltered list shows its new state (one cached Run).
    await pipeline(created.id, 'RUNNING', 2);
    await until(
      () => listed(client, { first: 20, status: 'RUNNING' }),
      (list) => list?.ids.length === 1,
    );
    const run = client.readQuery({ query: DashboardRunsDocument, variables: { first: 20 } })!.runs.edges[0]!.node;
    expect(run).toMatchObject({ id: created.id, status: 'RUNNING', currentStage: 2 });

    // COMPLETED: it leaves RUNNING's list and stays in the unfiltered one.
    await pipeline(created.id, 'COMPLETED', 5);
    await until(
      () => listed(client, { first: 20, status: 'RUNNING' }),
      (list) => list?.ids.length === 0 && list.totalCount === 0,
    );
    expect(listed(client, { first: 20 })?.ids).toEqual([created.id, runs[0]!.id, runs[1]!.id]);

    // An older run changing status enters RUNNING's list at its place by createdAt.
    await pipeline(runs[1]!.id, 'RUNNING', 1);
    await pipeline(runs[0]!.id, 'RUNNING', 1);
    const running = await until(
      () => listed(client, { first: 20, status: 'RUNNING' }),
      (list) => list?.ids.length === 2,
    );
    expect(running?.ids).toEqual([runs[0]!.id, runs[1]!.id]);
  } finally {
    subscription.unsubscribe();
  }
});

it('a run older than the last loaded one, with more pages to come, waits for its page', async () => {
  const { userId, runs, client } = await dashboardOf('user_next_unloaded', [1, 2, 3]);
  await client.query({ query: DashboardRunsDocument, variables: { first: 2 } });
  const subscription = await followChanges(client, userId);
  try {
    const older = await createRun(api.db.prisma, userId, { createdAt: new Date(Date.now() - 60 * 60_000) });
    const newer = await createRun(api.db.prisma, userId);
    await until(
      () => listed(client, { first: 2 }),
      (list) => list?.ids[0] === newer.id,
    );
    expect(listed(client, { first: 2 })?.ids).toEqual([newer.id, runs[0]!.id, runs[1]!.id]);
    expect(listed(client, { first: 2 })?.ids).not.toContain(older.id);
  } finally {
    subscription.unsubscribe();
  }
});

it('createRun and deleteRun through the client: the new run is listed, the deleted one leaves lists and cache', async () => {
  const { runs, client } = await dashboardOf('user_next_mutations', [5]);
  await client.query({ query: DashboardRunsDocument, variables: { first: 20 } });
  const input = { companyId: 'acme', companyName: 'Acme', documentName: 'r.pdf', documentUrl: 'https://example.com/r.pdf' };
  const started = await client.mutate({
    mutation: DashboardStartRunDocument,
    variables: { input, idempotencyKey: 'next-recipe-start-1' },
    update: (cache, { data }) => data && placeRun(cache, data.createRun),
  });
  const startedId = started.data!.createRun.id;
  expect(listed(client, { first: 20 })).toMatchObject({ ids: [startedId, runs[0]!.id], totalCount: 2 });

  await client.mutate({
    mutation: DashboardDeleteRunDocument,
    variables: { id: runs[0]!.id },
    update: (cache, { data }) => data && removeRun(cache, data.deleteRun.deletedRunId),
  });
  expect(listed(client, { first: 20 })).toMatchObject({ ids: [startedId], totalCount: 1 });
  expect(Object.keys(client.cache.extract() as Record<string, unknown>)).not.toContain(`Run:${runs[0]!.id}`);
});

it('a run deleted elsewhere (runsUpdated’s deleted error) leaves the lists and the cache', async () => {
  const { userId, runs, client } = await dashboardOf('user_next_deleted', [1, 2]);
  await client.query({ query: DashboardRunsDocument, variables: { first: 20 } });
  const subscription = await followChanges(client, userId);
  try {
    await api.db.prisma.run.delete({ where: { id: runs[0]!.id } });
    const list = await until(
      () => listed(client, { first: 20 }),
      (current) => current?.ids.length === 1,
    );
    expect(list).toMatchObject({ ids: [runs[1]!.id], totalCount: 1 });
    expect(Object.keys(client.cache.extract() as Record<string, unknown>)).not.toContain(`Run:${runs[0]!.id}`);
    // That error message did not end the subscription: the next new run is still placed.
    const next = await createRun(api.db.prisma, userId);
    await until(
      () => listed(client, { first: 20 }),
      (current) => current?.ids[0] === next.id,
    );
  } finally {
    subscription.unsubscribe();
  }
});
