/** User: the signed-in person, reached only as `me`; its lists are the signed-in user's own. */
import { builder } from './builder';
import { ownerOf } from './owner';
import { countRuns, ownRuns, RunConnection } from './run';

export const User = builder.prismaObject('User', {
  description: 'The signed-in user',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    runs: t.prismaConnection(ownRuns, RunConnection),
    // Counted through the (userId, …) indexes; Prisma's relation _count would aggregate the whole table.
    runCount: t.int({ resolve: (_user, _args, ctx) => countRuns(ctx, ownerOf(ctx), {}) }),
    starredCardCount: t.int({
      resolve: (_user, _args, ctx) => ctx.db.opportunityCard.count({ where: ownerOf(ctx).cards({ starred: true }) }),
    }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (created on the first request of a Clerk user)',
    resolve: (query, _root, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: ownerOf(ctx).userId } }),
  }),
);
