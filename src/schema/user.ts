/** User: the signed-in person, reached only as `me`. */
import { builder } from './builder';
import { currentUser } from './context';
import { withClientErrors } from './errors';
import { countRuns, listRuns, RunConnection, runListArgs } from './run';

export const User = builder.prismaObject('User', {
  description: 'The signed-in user',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    runs: t.prismaConnection(
      {
        type: 'Run',
        cursor: 'id',
        description: 'Your runs, newest first',
        args: runListArgs,
        totalCount: (user, args, ctx) => countRuns(ctx, user.id, args),
        resolve: (query, user, args, ctx) => listRuns(ctx, user.id, args, query),
      },
      RunConnection,
    ),
    // Counted through the (userId, …) indexes; Prisma's relation _count would aggregate the whole table.
    runCount: t.int({ resolve: (user, _args, ctx) => countRuns(ctx, user.id, {}) }),
    starredCardCount: t.int({
      resolve: (user, _args, ctx) => withClientErrors(ctx.db.opportunityCard.count({ where: { userId: user.id, starred: true } })),
    }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (created on the first request of a Clerk user)',
    resolve: (query, _root, _args, ctx) =>
      withClientErrors(ctx.db.user.findUniqueOrThrow({ ...query, where: { id: currentUser(ctx).id } })),
  }),
);
