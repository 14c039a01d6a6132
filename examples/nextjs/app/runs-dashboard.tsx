'use client';
/**
 * The runs list, live: `runsUpdated` places every new or changed run in the cached lists (./lib/apollo/
 * run-lists.ts), a deletion anywhere takes the run out, "Load more" appends the next page (relayStylePagination),
 * "Start a run" sends an idempotency key made once per click.
 */
import { useMutation, useSubscription, useSuspenseQuery } from '@apollo/client/react';
import { useState } from 'react';
import { deletedRunIdOf, placeRun, removeRun } from '../lib/apollo/run-lists';
import {
  DashboardDeleteRunDocument,
  DashboardRunsChangedDocument,
  DashboardRunsDocument,
  DashboardStartRunDocument,
} from '../lib/operations';

export const PAGE_SIZE = 20;

const NEW_RUN = {
  companyId: 'lactalis-canada',
  companyName: 'Lactalis Canada',
  documentName: 'trends-2026.pdf',
  documentUrl: 'https://example.com/trends-2026.pdf',
};

export function RunsDashboard() {
  const { data, fetchMore } = useSuspenseQuery(DashboardRunsDocument, { variables: { first: PAGE_SIZE } });
  useSubscription(DashboardRunsChangedDocument, {
    errorPolicy: 'all',
    onData: ({ client, data: { data: update, error } }) => {
      if (update) return placeRun(client.cache, update.runsUpdated);
      const deleted = deletedRunIdOf(error);
      if (deleted) removeRun(client.cache, deleted);
    },
  });
  const [startRun, { loading: starting }] = useMutation(DashboardStartRunDocument, {
    update: (cache, { data: started }) => started && placeRun(cache, started.createRun),
  });
  const [deleteRun] = useMutation(DashboardDeleteRunDocument, {
    update: (cache, { data: deleted }) => deleted && removeRun(cache, deleted.deleteRun.deletedRunId),
  });
  const [loadingMore, setLoadingMore] = useState(false);
  const { edges, pageInfo, totalCount } = data.runs;

  return (
    <section>
      <button
        type="button"
        disabled={starting}
        onClick={() => void startRun({ variables: { input: NEW_RUN, idempotencyKey: crypto.randomUUID() } })}
      >
        Start a run
      </button>
      <p>{totalCount} runs</p>
      <ul>
        {edges.map(({ node }) => (
          <li key={node.id}>
            {node.companyName}: {node.status} (stage {node.currentStage} of 5)
            <button type="button" onClick={() => void deleteRun({ variables: { id: node.id } })}>
              Delete
            </button>
          </li>
        ))}
      </ul>
      {pageInfo.hasNextPage && (
        <button
          type="button"
          disabled={loadingMore}
          onClick={() => {
            setLoadingMore(true);
            void fetchMore({ variables: { after: pageInfo.endCursor } }).finally(() => setLoadingMore(false));
          }}
        >
          Load more
        </button>
      )}
    </section>
  );
}
