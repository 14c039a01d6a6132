/**
 * The two subscription fields. How live progress works (who watches a run, coalescing, sharing executions,
 * the per-user limit, the backstop) is src/live/; here are only the fields' shapes and what they answer.
 */
import { clientError, notFound } from './errors';
import { followRun, followRuns } from '../live/follow-runs';
import type { AccessEnded } from '../live/stream';
import { builder } from './builder';
import { Run, RunStatusEnum } from './run';

/** Resolves a stream's message: a run, or the UNAUTHENTICATED end of its access. */
function messageOf<T extends object>(update: T | AccessEnded): T {
  if ('accessEnded' in update) throw clientError('UNAUTHENTICATED', update.accessEnded);
  return update;
}

builder.subscriptionType({ description: 'Live changes to your runs (graphql-ws or SSE)', authScopes: { authenticated: true } });

builder.subscriptionField('runUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'One of your runs as it moves through the pipeline: the current state at once, then the newest state after ' +
      'every change of status, stage, error or outputs (bursts may arrive as one message). Completes after ' +
      'sending COMPLETED or FAILED, or when the run is deleted. NOT_FOUND when the run does not exist or is not yours.',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    subscribe: async (_root, { id }, ctx, info) => {
      const stream = await followRun(ctx, id, info);
      if (!stream) throw notFound('Run');
      return stream;
    },
    resolve: (update) => messageOf(update),
  }),
);

builder.subscriptionField('runsUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'Every change to any of your runs (including runs just created by you or by the pipeline), newest state ' +
      'first, for a dashboard list; `status` keeps only runs now in one of these statuses. A deleted run arrives ' +
      'as a message with `data: null` and one error whose extensions are ' +
      '`{ code: "NOT_FOUND", deleted: true, runId }`: remove that run from the list. After the server reconnects ' +
      'to the database it resends the current state of your runs that changed in the last minute.',
    args: { status: t.arg({ type: [RunStatusEnum], description: 'Only runs now in one of these statuses' }) },
    subscribe: (_root, { status }, ctx, info) => followRuns(ctx, status, info),
    resolve: (message) => {
      const update = messageOf(message);
      if ('deletedRunId' in update) {
        throw clientError('NOT_FOUND', `Run ${update.deletedRunId} was deleted`, { deleted: true, runId: update.deletedRunId });
      }
      return update;
    },
  }),
);
