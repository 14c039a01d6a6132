/**
 * A small browser app over the API: lists your runs and keeps the list live (runsUpdated), starts a run with an
 * idempotency key (a double click or a retry starts one run), follows a run through its five stages
 * (runUpdated), stars its cards and cancels runs. `npm run example:web` serves it.
 */
import type { CombinedError } from '@urql/core';
import { createApiClient } from './client';
import { instrumentedFetch } from './instrumented-fetch';
import { CancelRunDocument, FollowRunDocument, RunsDocument, RunsUpdatedDocument, StarCardDocument, StartRunDocument } from './operations';
import { API_URL, TRANSPORT, getToken } from './session';
import { view, type FollowedRun, type RunRow } from './view';

const NEW_RUN = {
  companyId: 'lactalis-canada',
  companyName: 'Lactalis Canada',
  documentName: 'trends-2026.pdf',
  documentUrl: 'https://example.com/trends-2026.pdf',
};

const client = createApiClient({
  apiUrl: API_URL,
  transport: TRANSPORT,
  getToken,
  fetch: instrumentedFetch((id) => view.showRequestId(id)),
});
const runs = new Map<string, RunRow>();
let followed: { id: string; stop(): void } | undefined;

const fail = (error: CombinedError | Error) => view.showError(error.message);
const render = () => view.renderRuns(runs.values(), { follow, cancel: (id) => void cancel(id) });

function follow(id: string) {
  followed?.stop();
  view.startFollowing(id);
  const subscription = client.subscription(FollowRunDocument, { id }).subscribe(({ data, error, hasNext }) => {
    if (error) return fail(error);
    // After COMPLETED, FAILED or CANCELLED the API ends the subscription; urql then repeats the last result with
    // hasNext: false, which is that end, not a new state.
    if (!data || !hasNext) return;
    const run: FollowedRun = data.runUpdated;
    view.renderFollowed(run, (cardId, starred) => void star(cardId, starred));
  });
  followed = { id, stop: () => subscription.unsubscribe() };
}

async function star(cardId: string, starred: boolean) {
  const { error } = await client.mutation(StarCardDocument, { id: cardId, starred });
  if (error) return fail(error);
  // The followed run's stream sends its cards again only when the run changes: follow it again for the new state.
  if (followed) follow(followed.id);
}

async function cancel(id: string) {
  const { data, error } = await client.mutation(CancelRunDocument, { id });
  if (error) return fail(error);
  const run = runs.get(id);
  if (run && data) runs.set(id, { ...run, ...data.cancelRun });
  render();
}

view.onStart((button) => {
  // One key per start, kept if this very start is sent again: the API answers a repeat with the same run.
  const idempotencyKey = crypto.randomUUID();
  button.disabled = true;
  void client
    .mutation(StartRunDocument, { input: NEW_RUN, idempotencyKey })
    .toPromise()
    .then(({ data, error }) => {
      if (error) return fail(error);
      if (!data) return;
      runs.set(data.createRun.id, data.createRun);
      render();
      follow(data.createRun.id);
    })
    .finally(() => (button.disabled = false));
});

async function main() {
  if (!(await getToken())) return view.showSignedOut();
  view.showApp(TRANSPORT);
  // Subscribed before the first page is read, so no change falls between the two. A run the subscription has
  // already reported keeps that state: any change after the page was read is reported too.
  const reported = new Set<string>();
  client.subscription(RunsUpdatedDocument, {}).subscribe(({ data: update, error: updateError }) => {
    // A deleted run arrives as an error naming it (extensions.deleted): take it off the list.
    const deleted = updateError?.graphQLErrors.find((e) => e.extensions.deleted === true)?.extensions.runId;
    if (typeof deleted === 'string') runs.delete(deleted);
    else if (updateError) return fail(updateError);
    if (update) {
      reported.add(update.runsUpdated.id);
      runs.set(update.runsUpdated.id, update.runsUpdated);
    }
    render();
  });
  const { data, error } = await client.query(RunsDocument, {}, { requestPolicy: 'network-only' });
  if (error) return fail(error);
  for (const { node } of data?.runs.edges ?? []) if (!reported.has(node.id)) runs.set(node.id, node);
  render();
}

void main();
