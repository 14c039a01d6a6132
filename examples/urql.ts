/**
 * urql (`@urql/core`, what `urql` and `next-urql` build on) against this API, runnable in Node:
 * `npm run example:urql` while the server and the pipeline run (`npm run demo`). It starts a run, follows it
 * over graphql-ws until COMPLETED or FAILED, lists your newest runs and stars the first card of the finished
 * run. The client set-up is what a Next.js app uses; in a browser, leave out `webSocketImpl` (and take
 * `getToken` from Clerk).
 */
import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { retryExchange } from '@urql/exchange-retry';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { API_URL, NEW_RUN, WS_URL, describeRun, getToken } from './connection';

const ws = createWsClient({
  url: WS_URL,
  webSocketImpl: WebSocket, // Node only: browsers have their own
  lazy: true, // connect on the first subscription, and again after a close
  connectionParams: async () => ({ authorization: `Bearer ${await getToken()}` }), // a fresh token each connect
  retryAttempts: Infinity, // network drops are retried by graphql-ws itself
});
export const client = new Client({
  url: API_URL,
  // urql reads fetchOptions for every request; an async token goes through a fetch wrapper instead.
  fetch: async (url, init) => fetch(url, { ...init, headers: { ...init?.headers, authorization: `Bearer ${await getToken()}` } }),
  exchanges: [
    cacheExchange,
    // A 4401 close (token expired) reaches urql as a network error: run the subscription again (it reconnects).
    retryExchange({ retryIf: (error) => Boolean(error.networkError), maxNumberAttempts: Infinity }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ],
});

const START_RUN = gql<{ createRun: { id: string; status: string } }, { input: typeof NEW_RUN }>`
  mutation StartRun($input: CreateRunInput!) {
    createRun(input: $input) {
      id
      status
    }
  }
`;

interface FollowedRun {
  id: string;
  status: string;
  currentStage: number;
  errorMessage: string | null;
  opportunityCards: Array<{ id: string; number: number; title: string }>;
}
const FOLLOW_RUN = gql<{ runUpdated: FollowedRun }, { id: string }>`
  subscription FollowRun($id: ID!) {
    runUpdated(id: $id) {
      id
      status
      currentStage
      errorMessage
      opportunityCards {
        id
        number
        title
      }
    }
  }
`;
const MY_RUNS = gql<{
  runs: { totalCount: number; edges: Array<{ node: { id: string; companyName: string; status: string; opportunityCardCount: number } }> };
}>`
  query MyRuns {
    runs(first: 5) {
      totalCount
      edges {
        node {
          id
          companyName
          status
          opportunityCardCount
        }
      }
    }
  }
`;
const STAR_CARD = gql<{ setCardStarred: { id: string; starred: boolean } }, { id: string }>`
  mutation StarCard($id: ID!) {
    setCardStarred(id: $id, starred: true) {
      id
      starred
    }
  }
`;

/** Every state of the run until it finishes; resolves with the last one. */
function follow(id: string): Promise<FollowedRun> {
  return new Promise((resolve, reject) => {
    let last: FollowedRun | undefined;
    const subscription = client.subscription(FOLLOW_RUN, { id }).subscribe((result) => {
      if (result.error) {
        subscription.unsubscribe();
        return reject(result.error);
      }
      last = result.data!.runUpdated;
      console.log(`  ${describeRun(last)}`);
      if (last.status === 'COMPLETED' || last.status === 'FAILED') {
        subscription.unsubscribe();
        resolve(last);
      }
    });
  });
}

async function main(): Promise<void> {
  const started = await client.mutation(START_RUN, { input: NEW_RUN });
  if (started.error) throw started.error;
  const run = started.data!.createRun;
  console.log(`Started run ${run.id}; following it:`);
  const finished = await follow(run.id);
  console.log(
    finished.status === 'FAILED' ? `Failed: ${finished.errorMessage}` : `Finished with ${finished.opportunityCards.length} cards`,
  );

  const mine = await client.query(MY_RUNS, {}, { requestPolicy: 'network-only' });
  if (mine.error) throw mine.error;
  console.log(`Your newest runs (${mine.data!.runs.totalCount} in all):`);
  for (const { node } of mine.data!.runs.edges)
    console.log(`  ${node.id} ${node.companyName} ${node.status}, ${node.opportunityCardCount} cards`);

  const card = finished.opportunityCards[0];
  if (card) {
    const starred = await client.mutation(STAR_CARD, { id: card.id });
    if (starred.error) throw starred.error;
    console.log(`Starred card ${card.number} "${card.title}": ${starred.data!.setCardStarred.starred}`);
  }
}

main()
  .then(() => ws.dispose())
  .catch(async (error: unknown) => {
    console.error(error);
    await ws.dispose();
    process.exitCode = 1;
  });
