/**
 * What a change to a run does to the cached `runs` lists (newest first, one list per filter). Apollo updates a
 * cached Run in place by itself; entering and leaving lists is the application's to say:
 * - `placeRun`: a run from `runsUpdated` or `createRun` enters each loaded list whose filter it matches, at its
 *   place by `createdAt` (not past the last loaded run when more pages follow: it belongs to a page not loaded
 *   yet), and leaves each list whose filter it no longer matches (a `status: RUNNING` list loses a run that
 *   COMPLETED); `totalCount` follows.
 * - `removeRun`: a deleted run (the `deleteRun` answer, or `runsUpdated`'s error with `deleted: true` when
 *   another tab or device deleted it) leaves every list and is evicted with what only it referenced.
 */
import { CombinedGraphQLErrors, type ApolloCache, type Reference } from '@apollo/client';
import type { RunListItemFragment } from '../../generated/graphql';
import { RunListItem } from '../operations';

interface StoredEdge {
  __typename?: string;
  cursor?: string;
  node: Reference;
}
interface StoredConnection {
  edges: StoredEdge[];
  pageInfo?: { hasNextPage?: boolean };
  totalCount?: number;
}

/**
 * The filter a stored list was fetched with. Apollo keys each list by its key arguments
 * (relayStylePagination's ['status', 'companyId']) as `runs:{"status":"RUNNING"}`, or `runs` for none.
 */
function filterOf(storeFieldName: string): { status?: string; companyId?: string } {
  const json = storeFieldName.slice(storeFieldName.indexOf(':') + 1);
  return storeFieldName.includes(':') ? (JSON.parse(json) as { status?: string; companyId?: string }) : {};
}

const matches = (run: RunListItemFragment, filter: { status?: string; companyId?: string }) =>
  (filter.status === undefined || filter.status === run.status) && (filter.companyId === undefined || filter.companyId === run.companyId);

export function placeRun(cache: ApolloCache, run: RunListItemFragment): void {
  const ref = cache.writeFragment({ data: run, fragment: RunListItem, fragmentName: 'RunListItem' });
  if (!ref) return;
  cache.modify<{ runs: StoredConnection }>({
    fields: {
      runs(existing, { storeFieldName, readField }) {
        const list = existing as StoredConnection;
        const present = list.edges.some((edge) => edge.node.__ref === ref.__ref);
        const belongs = matches(run, filterOf(storeFieldName));
        if (present && !belongs) {
          return { ...list, edges: list.edges.filter((edge) => edge.node.__ref !== ref.__ref), totalCount: adjust(list.totalCount, -1) };
        }
        if (present || !belongs) return list;
        // Newest first: before the first run created earlier than this one.
        const at = list.edges.findIndex((edge) => (readField<string>('createdAt', edge.node) ?? '') < run.createdAt);
        if (at === -1 && list.pageInfo?.hasNextPage) return list; // on a page not loaded yet
        const edges = [...list.edges];
        // The server gave this run no cursor in this list: '' (relayStylePagination skips empty cursors, and the
        // next page still starts after pageInfo.endCursor).
        edges.splice(at === -1 ? edges.length : at, 0, { __typename: 'RunEdge', cursor: '', node: ref });
        return { ...list, edges, totalCount: adjust(list.totalCount, 1) };
      },
    },
  });
}

export function removeRun(cache: ApolloCache, runId: string): void {
  const id = cache.identify({ __typename: 'Run', id: runId });
  if (!id) return;
  cache.modify<{ runs: StoredConnection }>({
    fields: {
      runs(existing) {
        const list = existing as StoredConnection;
        const edges = list.edges.filter((edge) => edge.node.__ref !== id);
        return edges.length === list.edges.length ? list : { ...list, edges, totalCount: adjust(list.totalCount, -1) };
      },
    },
  });
  cache.evict({ id });
  cache.gc();
}

const adjust = (count: number | undefined, by: number) => (count === undefined ? undefined : Math.max(0, count + by));

/** The run a `runsUpdated` error message says was deleted (extensions `{ code: "NOT_FOUND", deleted: true, runId }`). */
export function deletedRunIdOf(error: unknown): string | undefined {
  if (!CombinedGraphQLErrors.is(error)) return undefined;
  const runId = error.errors.find((e) => e.extensions?.deleted === true)?.extensions?.runId;
  return typeof runId === 'string' ? runId : undefined;
}
