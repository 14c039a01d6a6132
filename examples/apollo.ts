/**
 * Apollo Client 4 against this API, runnable in Node: `npm run example:apollo` while the server and the
 * pipeline run (`npm run demo`). It starts a run, follows it over graphql-ws until it finishes (COMPLETED, FAILED or CANCELLED), lists
 * your newest runs and stars the first card of the finished run. The client set-up is what a Next.js app
 * uses; in a browser, leave out `webSocketImpl` (and take `getToken` from Clerk).
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { RetryLink } from '@apollo/client/link/retry';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { API_URL, WS_URL, getToken } from './connection';
import * as operations from './operations';
import { NEW_RUN, documentIdOf, report, type FollowedRun, type MyRuns, type StarredCard, type StartedRun } from './operations';

const wsClient = createClient({
  url: WS_URL,
  webSocketImpl: WebSocket, // Node only: browsers have their own
  lazy: true, // connect on the first subscription, and again after a close
  connectionParams: async () => ({ authorization: `Bearer ${await getToken()}` }), // a fresh token each connect
  retryAttempts: Infinity, // network drops are retried by graphql-ws itself
});
// A 4401 close (token expired) ends the subscriptions; GraphQLWsLink reports it as
// Error("Socket closed with event 4401 …"). Subscribing again reconnects with a fresh token.
const resubscribe = new RetryLink({
  attempts: { max: Infinity, retryIf: (error) => /Socket closed with event 4401/.test(error.message) },
});
const httpLink = new HttpLink({
  uri: API_URL,
  fetch: async (uri, init) => fetch(uri, { ...init, headers: { ...init?.headers, authorization: `Bearer ${await getToken()}` } }),
});
// Trusted documents: each operation goes by its id in the published manifest (extensions.persistedQuery).
const persisted = new PersistedQueryLink({ generateHash: (document) => documentIdOf(document)! });
export const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([
    persisted,
    ApolloLink.split(
      (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
      ApolloLink.from([resubscribe, new GraphQLWsLink(wsClient)]),
      httpLink,
    ),
  ]),
});

const START_RUN = gql(operations.START_RUN);
const FOLLOW_RUN = gql(operations.FOLLOW_RUN);
const MY_RUNS = gql(operations.MY_RUNS);
const STAR_CARD = gql(operations.STAR_CARD);

/** Every state of the run until it finishes; resolves with the last one. */
function follow(id: string): Promise<FollowedRun> {
  return new Promise((resolve, reject) => {
    let last: FollowedRun | undefined;
    client.subscribe<{ runUpdated: FollowedRun }>({ query: FOLLOW_RUN, variables: { id } }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error instanceof Error ? error : new Error(error.message));
        last = data!.runUpdated;
        report.state(last);
      },
      error: reject,
      complete: () => (last ? resolve(last) : reject(new Error('the subscription ended without a state'))),
    });
  });
}

async function main(): Promise<void> {
  // One key per start: sending this mutation again with it (a retry) starts no second run.
  const started = await client.mutate<StartedRun>({
    mutation: START_RUN,
    variables: { input: NEW_RUN, idempotencyKey: crypto.randomUUID() },
  });
  report.started(started.data!.createRun);
  const finished = await follow(started.data!.createRun.id);
  report.finished(finished);

  const { data } = await client.query<MyRuns>({ query: MY_RUNS });
  report.runs(data!);

  const card = finished.opportunityCards[0];
  if (card) {
    const starred = await client.mutate<StarredCard>({ mutation: STAR_CARD, variables: { id: card.id } });
    report.starred(card, starred.data!);
  }
}

main()
  .then(() => wsClient.dispose())
  .catch(async (error: unknown) => {
    console.error(error);
    await wsClient.dispose();
    process.exitCode = 1;
  });
