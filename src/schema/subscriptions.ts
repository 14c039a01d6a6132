/**
 * The two subscription fields. How live progress works (who watches a run, coalescing, sharing executions,
 * the per-user limit, the backstop) is src/live/; here are only the fields' shapes and what they answer.
 */
import { clientError, notFound } from '../errors';
import { followRun, followRuns, type RunUpdate } from '../live/follow-runs';
import type { AccessEnded } from '../live/stream';
import { builder } from './builder';
import { Run, RunStatusEnum } from './run';

/**
 * Resolves a stream's message: a run; a deleted run's NOT_FOUND (extensions `deleted: true, runId`: remove it);
 * or the UNAUTHENTICATED end of its access.
 */
function runOf(message: RunUpdate | AccessEnded) {
  if ('accessEnded' in message) throw clientError('UNAUTHENTICATED', message.accessEnded);
  if ('deletedRunId' in message) {
    throw clientError('NOT_FOUND', `Run ${message.deletedRunId} was deleted`, { deleted: true, runId: message.deletedRunId });
  }
  return message;
}

builder.subscriptionType({ description: 'Live changes to your runs (graphql-ws or SSE)', authScopes: { authenticated: true } });

builder.subscriptionField('runUpdated', (t) =>
  t.field({
    type: Run,
    description:
      'One of your runs as it moves through the pipeline: the current state at once, then the newest state after ' +
      'every change of status, stage, error or outputs (bursts may arrive as one message). Completes after ' +
      'sending COMPLETED, FAILED or CANCELLED. A deleted run ends the stream with a message with `data: null` and ' +
      'one error whose extensions are `{ code: "NOT_FOUND", deleted: true, runId }`. NOT_FOUND when the run does ' +
      'not exist or is not yours.',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    subscribe: async (_root, { id }, ctx, info) => {
      const stream = await followRun(ctx, id, info);
      if (!stream) throw notFound('Run');
      return stream;
    },
    resolve: (message) => runOf(message),
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
    resolve: (message) => runOf(message),
  }),
);
