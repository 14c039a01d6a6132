/**
 * Apollo Client 4 against this API, runnable in Node: `npm run example:apollo` while the server and the
 * pipeline run (`npm run demo`). It starts a run, follows it over graphql-ws until COMPLETED or FAILED, lists
 * your newest runs and stars the first card of the finished run. The client set-up is what a Next.js app
 * uses; in a browser, leave out `webSocketImpl` (and take `getToken` from Clerk).
 */
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { RetryLink } from '@apollo/client/link/retry';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { OperationTypeNode } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { API_URL, NEW_RUN, WS_URL, describeRun, getToken } from './connection';

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
export const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.split(
    (operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION,
    ApolloLink.from([resubscribe, new GraphQLWsLink(wsClient)]),
    httpLink,
  ),
});

const START_RUN = gql`
  mutation StartRun($input: CreateRunInput!) {
    createRun(input: $input) {
      id
      status
      currentStage
    }
  }
`;
const FOLLOW_RUN = gql`
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
const MY_RUNS = gql`
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
const STAR_CARD = gql`
  mutation StarCard($id: ID!) {
    setCardStarred(id: $id, starred: true) {
      id
      starred
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

/** Every state of the run until it finishes; resolves with the last one. */
function follow(id: string): Promise<FollowedRun> {
  return new Promise((resolve, reject) => {
    let last: FollowedRun | undefined;
    client.subscribe<{ runUpdated: FollowedRun }>({ query: FOLLOW_RUN, variables: { id } }).subscribe({
      next: ({ data, error }) => {
        if (error) return reject(error instanceof Error ? error : new Error(error.message));
        last = data!.runUpdated;
        console.log(`  ${describeRun(last)}`);
      },
      error: reject,
      complete: () => (last ? resolve(last) : reject(new Error('the subscription ended without a state'))),
    });
  });
}

async function main(): Promise<void> {
  const started = await client.mutate<{ createRun: { id: string; status: string; currentStage: number } }>({
    mutation: START_RUN,
    variables: { input: NEW_RUN },
  });
  const run = started.data!.createRun;
  console.log(`Started run ${run.id}; following it:`);
  const finished = await follow(run.id);
  console.log(
    finished.status === 'FAILED' ? `Failed: ${finished.errorMessage}` : `Finished with ${finished.opportunityCards.length} cards`,
  );

  const { data } = await client.query<{
    runs: { totalCount: number; edges: Array<{ node: { id: string; companyName: string; status: string; opportunityCardCount: number } }> };
  }>({ query: MY_RUNS });
  console.log(`Your newest runs (${data!.runs.totalCount} in all):`);
  for (const { node } of data!.runs.edges)
    console.log(`  ${node.id} ${node.companyName} ${node.status}, ${node.opportunityCardCount} cards`);

  const card = finished.opportunityCards[0];
  if (card) {
    const starred = await client.mutate<{ setCardStarred: { id: string; starred: boolean } }>({
      mutation: STAR_CARD,
      variables: { id: card.id },
    });
    console.log(`Starred card ${card.number} "${card.title}": ${starred.data!.setCardStarred.starred}`);
  }
}

main()
  .then(() => wsClient.dispose())
  .catch(async (error: unknown) => {
    console.error(error);
    await wsClient.dispose();
    process.exitCode = 1;
  });
