/**
 * What a subscription reads on each change, and what it has already been sent: a change the subscriber did
 * not select (a stage output it does not read, say) refetches the same message, which is then not sent again.
 */
import { queryFromInfo } from '@pothos/plugin-prisma';
import type { GraphQLResolveInfo } from 'graphql';
import type { Run } from '../generated/prisma/client';
import { selectedFieldNames } from '../selected-fields';

export interface RunSelection {
  /** What each refetch reads: the subscription's own selection, plus what the stream itself needs. */
  query: object;
  /** The state of a run as this subscriber sees it: only the fields it selected. */
  seen(run: Run): string;
}

/**
 * The subscription's own selection, plus what the stream itself needs (id and status). What the subscriber
 * has seen of a run is the values of the fields it selected, and nothing else a read may carry (a batched read
 * adds the owner's id to match rows to readers).
 */
export function runSelectionOf(context: object, info: GraphQLResolveInfo): RunSelection {
  const query = queryFromInfo({ context, info, select: { id: true, status: true } });
  // Run is a select-mode type (src/schema/run.ts): every read names its fields.
  if (!('select' in query) || typeof query.select !== 'object' || !query.select)
    throw new Error('a run subscription must select its fields');
  const selected = selectedFieldNames(info);
  const compared = Object.keys(query.select).filter((field) => selected.has(field) || !['id', 'status'].includes(field));
  return {
    query,
    seen: (run) => {
      const row = run as unknown as Record<string, unknown>;
      return JSON.stringify(compared.map((field) => row[field]));
    },
  };
}

/**
 * What each run last looked like to one `runsUpdated` subscriber. Bounded: a run not seen among the last
 * thousand is at worst sent once more.
 */
export class LastSent {
  // A Map, not lru-cache: an LRUCache allocates its arrays for `max` entries up front (~24 KB per subscription),
  // while a dashboard's subscription usually remembers a few runs.
  private readonly states = new Map<string, string>();

  constructor(
    private readonly selection: RunSelection,
    private readonly max = 1000,
  ) {}

  /** True, and remembered, when `run` differs from what this subscriber was last sent for it. */
  changed(run: Run): boolean {
    const state = this.selection.seen(run);
    if (this.states.get(run.id) === state) return false;
    // Re-inserted last: the Map's first key is then the run whose state was sent longest ago.
    this.states.delete(run.id);
    this.states.set(run.id, state);
    if (this.states.size > this.max) this.states.delete(this.states.keys().next().value!);
    return true;
  }

  forget(runId: string): void {
    this.states.delete(runId);
  }
}
