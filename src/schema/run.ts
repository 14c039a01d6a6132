/** Run: one pass of the five-stage pipeline over a trend report, with its queries and mutations (over src/runs/). */
import type { GraphQLResolveInfo } from 'graphql';
import { ownerOf } from '../auth/owner';
import { notFound } from '../errors';
import { RunStatus } from '../generated/prisma/enums';
import { idempotencyKeyOf } from '../runs/new-run';
import type { RunFilter } from '../runs/runs';
import { selectedFieldNames } from '../selected-fields';
import { builder } from './builder';
import type { Context } from './context';

export const RunStatusEnum = builder.enumType('RunStatus', {
  description: 'Where a run is in the pipeline',
  values: {
    [RunStatus.PENDING]: { value: RunStatus.PENDING, description: 'Waiting for the pipeline to take it (stage 0)' },
    [RunStatus.RUNNING]: { value: RunStatus.RUNNING, description: 'The pipeline is working on it: currentStage says which stage' },
    [RunStatus.COMPLETED]: { value: RunStatus.COMPLETED, description: 'All five stages done: its report and cards are written' },
    [RunStatus.FAILED]: { value: RunStatus.FAILED, description: 'Stopped at a stage: errorMessage says why; retryRun puts it back' },
    [RunStatus.CANCELLED]: {
      value: RunStatus.CANCELLED,
      description: 'Stopped by its user (cancelRun) before it finished; retryRun puts it back',
    },
  } as const,
});

export const Run = builder.prismaObject('Run', {
  description: 'One pass of the five-stage pipeline over a trend report',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: "The run's id (a UUID; the pipeline uses it too)" }),
    companyId: t.exposeString('companyId', { description: 'Company slug, e.g. lactalis-canada' }),
    companyName: t.exposeString('companyName', { description: "The company's name as shown, e.g. Lactalis" }),
    documentName: t.exposeString('documentName', { description: 'File name of the trend report' }),
    documentUrl: t.exposeString('documentUrl', { description: 'Where the pipeline fetches the trend report from' }),
    status: t.expose('status', { type: RunStatusEnum, description: 'Where the run is in the pipeline' }),
    currentStage: t.exposeInt('currentStage', { description: '0 (not started) to 5' }),
    errorMessage: t.exposeString('errorMessage', { nullable: true, description: 'Why the run failed (FAILED runs only)' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the run was started' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the run last changed' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When the run reached COMPLETED' }),
    opportunityCards: t.relation('opportunityCards', {
      description: 'The five cards of a completed run, ordered by number',
      query: { orderBy: { number: 'asc' } },
    }),
    // A per-row count joined into the run's own statement (LATERAL, through the runId index): it grows with
    // the page, never with everyone's cards.
    opportunityCardCount: t.relationCount('opportunityCards', { description: 'Number of opportunity cards (5 once completed)' }),
    inspirationReport: t.relation('inspirationReport', { nullable: true, description: 'Written at stage 1' }),
    stageOutputs: t.relation('stageOutputs', {
      description: 'Raw stage outputs, ordered by stage number',
      args: { stageNumber: t.arg.int({ description: 'Only the output of this stage (1 to 5)' }) },
      query: (args) => ({
        where: args.stageNumber != null ? { stageNumber: args.stageNumber } : {},
        orderBy: { stageNumber: 'asc' },
      }),
    }),
  }),
});

export const RunConnection = builder.connectionObject(
  { type: Run, name: 'RunConnection', description: 'A page of your runs' },
  { name: 'RunEdge', description: 'A run in a page, with its cursor' },
);

/** Filters shared by `Query.runs` and `User.runs`. */
export const runListArgs = builder.args((t) => ({
  status: t.field({ type: RunStatusEnum, description: 'Only runs in this status' }),
  companyId: t.string({ description: 'Only runs for this company slug' }),
}));

builder.queryField('run', (t) =>
  t.prismaField({
    type: 'Run',
    nullable: true,
    description: 'One of your runs; null when it does not exist or is not yours',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.runs.find(ownerOf(ctx), id, query),
  }),
);

/**
 * Totals read alongside their page. Pothos asks for a connection's page first and for its `totalCount` only
 * once the page has arrived; when the client selected `totalCount`, the page's resolver reads it with the page
 * (one statement for a first page, else two sent together: one round trip of waiting instead of two). Pothos
 * passes the page's resolver and `totalCount` the same `info` object for one connection field.
 */
const totalsInFlight = new WeakMap<GraphQLResolveInfo, Promise<number>>();

/** The signed-in user's runs as a connection, for `Query.runs` and `User.runs` (reached only as `me`) alike. */
export const ownRuns = {
  type: 'Run',
  cursor: 'id',
  description: 'Your runs, newest first',
  args: runListArgs,
  totalCount: (_parent: unknown, args: RunFilter, ctx: Context, info: GraphQLResolveInfo) =>
    totalsInFlight.get(info) ?? ctx.services.runs.count(ownerOf(ctx), args),
  resolve: (query: object, _parent: unknown, args: RunFilter, ctx: Context, info: GraphQLResolveInfo) => {
    const owner = ownerOf(ctx);
    const selected = selectedFieldNames(info);
    if (!selected.has('totalCount')) return ctx.services.runs.list(owner, args, query);
    // Only the total (and perhaps __typename) was asked for: no page to read.
    if ([...selected].every((field) => field === 'totalCount' || field === '__typename')) {
      totalsInFlight.set(info, ctx.services.runs.count(owner, args));
      return Promise.resolve([]);
    }
    const { runs, total } = ctx.services.runs.listWithTotal(owner, args, query);
    // Awaited by totalCount; if the page fails first, nobody will, and the rejection must not go unhandled.
    total.catch(() => undefined);
    totalsInFlight.set(info, total);
    return runs;
  },
} as const;

builder.queryField('runs', (t) => t.prismaConnection(ownRuns, RunConnection));

// ---- Mutations -------------------------------------------------------------------------------------------

const CreateRunInputType = builder.inputType('CreateRunInput', {
  description: 'A run to start: which company, and its trend report',
  fields: (t) => ({
    companyId: t.string({ required: true, description: 'Lowercase slug, at most 64 characters, e.g. lactalis-canada' }),
    companyName: t.string({ required: true, description: '1 to 200 characters' }),
    documentName: t.string({ required: true, description: 'File name of the trend report, 1 to 255 characters' }),
    documentUrl: t.string({
      required: true,
      description:
        'https URL of the uploaded report on a public host (http too outside production), at most 2048 characters; ' +
        'stored normalised. No IP addresses, user names or private hosts.',
    }),
  }),
});

builder.mutationField('createRun', (t) =>
  t.prismaField({
    type: 'Run',
    description:
      'Start a run: a new PENDING run at stage 0 that the pipeline will pick up. Limited per user per minute and ' +
      'per day (RATE_LIMITED with extensions.retryAfter in seconds). With an idempotency key (this argument or ' +
      'the Idempotency-Key header), sending the same key again with the same input answers with the run it ' +
      'created, starting no second job, for IDEMPOTENCY_KEY_HOURS (24 h); the same key with another input is a ' +
      'CONFLICT.',
    args: {
      input: t.arg({ type: CreateRunInputType, required: true, description: 'The company and the trend report' }),
      idempotencyKey: t.arg.string({
        description: 'A key of your own for this start (a UUID), 1 to 255 visible ASCII characters: retries with it start nothing new',
      }),
    },
    resolve: (query, _root, { input, idempotencyKey }, ctx) =>
      ctx.services.runs.create(ownerOf(ctx), input, query, idempotencyKeyOf(idempotencyKey, ctx.idempotencyKeyHeader)),
  }),
);

builder.mutationField('cancelRun', (t) =>
  t.prismaField({
    type: 'Run',
    description:
      'Stop a PENDING or RUNNING run: it is CANCELLED at once, keeps its record and outputs so far, and the ' +
      'pipeline stops working on it at its next write. Cancelling a CANCELLED run answers with it; a COMPLETED or ' +
      'FAILED run is a CONFLICT. retryRun puts a cancelled run back in the queue.',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.runs.cancel(ownerOf(ctx), id, query),
  }),
);

const DeleteRunPayload = builder.objectRef<{ deletedRunId: string }>('DeleteRunPayload').implement({
  description: 'What deleteRun removed',
  fields: (t) => ({ deletedRunId: t.exposeID('deletedRunId', { description: 'Remove this run from client caches' }) }),
});

builder.mutationField('deleteRun', (t) =>
  t.field({
    type: DeleteRunPayload,
    description:
      'Delete one of your runs with its cards, inspiration report and stage outputs, whatever its status: a ' +
      'PENDING or RUNNING run is cancelled by its deletion (the pipeline stops at its next write), and its ' +
      'runUpdated subscribers get a last NOT_FOUND error with extensions.deleted.',
    args: { id: t.arg.id({ required: true, description: "The run's id" }) },
    resolve: async (_root, { id }, ctx) => {
      if (!(await ctx.services.runs.delete(ownerOf(ctx), id))) throw notFound('Run');
      return { deletedRunId: id };
    },
  }),
);

builder.mutationField('retryRun', (t) =>
  t.prismaField({
    type: 'Run',
    description:
      'Put a FAILED or CANCELLED run back in the queue: PENDING at stage 0, error cleared, and the partial ' +
      'outputs of the last attempt removed. Any other status is a CONFLICT, and so is a run already retried the ' +
      'most times allowed (extensions.limit "retriesPerRun"). Each retry is a new pipeline job: it spends ' +
      "createRun's per-minute and per-day limits (RATE_LIMITED with extensions.retryAfter).",
    args: { id: t.arg.id({ required: true, description: "The FAILED or CANCELLED run's id" }) },
    resolve: (query, _root, { id }, ctx) => ctx.services.runs.retry(ownerOf(ctx), id, query),
  }),
);
