/**
 * The Apollo cache's type policies for this API, the same on the server and in the browser:
 * - `Query.runs` is a Relay connection: pages fetched with `fetchMore({ variables: { after } })` are appended
 *   to one list per filter (`status`, `companyId`); `first` and `after` only say which page.
 * - A Run is stored once, by its id: a live update of a run (`runsUpdated`, `runUpdated`) changes it in every
 *   list and view at once. Which lists a new or changed run enters or leaves is in ./run-lists.ts.
 */
import { relayStylePagination } from '@apollo/client/utilities';
import type { InMemoryCacheConfig } from '@apollo/client';

export const cacheConfig: InMemoryCacheConfig = {
  typePolicies: {
    Query: {
      fields: {
        runs: relayStylePagination(['status', 'companyId']),
      },
    },
  },
};
