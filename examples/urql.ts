/**
 * urql (`@urql/core`, what `urql` and `next-urql` build on) against this API, runnable in Node:
 * `npm run example:urql` while the server and the pipeline run (`npm run demo`). It starts a run, follows it
 * over graphql-ws until it finishes (COMPLETED, FAILED or CANCELLED), lists your newest runs and stars the first card of the finished
 * run. The client set-up is what a Next.js app uses; in a browser, leave out `webSocketImpl` (and take
 * `getToken` from Clerk).
 */
import { Client, cacheExchange, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { persistedExchange } from '@urql/exchange-persisted';
import { retryExchange } from '@urql/exchange-retry';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { API_URL, WS_URL, getToken } from './connection';
import * as operations from './operations';
import { NEW_RUN, documentIdOf, isFinished, report, type FollowedRun, type MyRuns, type StarredCard, type StartedRun } from './operations';

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
    // Trusted documents: every operation goes by its id in the published manifest; the text follows only
    // when a server without that manifest (development) answers PersistedQueryNotFound.
    persistedExchange({
      enableForMutation: true,
      enableForSubscriptions: true,
      generateHash: (_query, document) => Promise.resolve(documentIdOf(document)),
    }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription: (request) => ({
        subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }),
      }),
    }),
  ],
});

const START_RUN = gql<StartedRun, { input: typeof NEW_RUN; idempotencyKey: string }>(operations.START_RUN);
const FOLLOW_RUN = gql<{ runUpdated: FollowedRun }, { id: string }>(operations.FOLLOW_RUN);
const MY_RUNS = gql<MyRuns>(operations.MY_RUNS);
const STAR_CARD = gql<StarredCard, { id: string }>(operations.STAR_CARD);

/** Every state of the run until it finishes; resolves with the last one. */
function follow(id: string): Promise<FollowedRun> {
  return new Promise((resolve, reject) => {
    const subscription = client.subscription(FOLLOW_RUN, { id }).subscribe((result) => {
      if (result.error) {
        subscription.unsubscribe();
        return reject(result.error);
      }
      const run = result.data!.runUpdated;
      report.state(run);
      if (isFinished(run)) {
        subscription.unsubscribe();
        resolve(run);
      }
    });
  });
}

async function main(): Promise<void> {
  // One key per start: retryExchange may send this mutation again after a network error, and with the key that
  // starts no second run.
  const started = await client.mutation(START_RUN, { input: NEW_RUN, idempotencyKey: crypto.randomUUID() });
  if (started.error) throw started.error;
  report.started(started.data!.createRun);
  const finished = await follow(started.data!.createRun.id);
  report.finished(finished);

  const mine = await client.query(MY_RUNS, {}, { requestPolicy: 'network-only' });
  if (mine.error) throw mine.error;
  report.runs(mine.data!);

  const card = finished.opportunityCards[0];
  if (card) {
    const starred = await client.mutation(STAR_CARD, { id: card.id });
    if (starred.error) throw starred.error;
    report.starred(card, starred.data!);
  }
}

main()
  .then(() => ws.dispose())
  .catch(async (error: unknown) => {
    console.error(error);
    await ws.dispose();
    process.exitCode = 1;
  });
