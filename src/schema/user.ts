/** User: the signed-in person, reached only as `me`; its lists are the signed-in user's own. */
import { builder } from './builder';
import { ownerOf } from './owner';
import { ownRuns, RunConnection } from './run';

export const User = builder.prismaObject('User', {
  description: 'The signed-in user',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    runs: t.prismaConnection(ownRuns, RunConnection),
    // Counts joined into the user's own statement (a LATERAL count through the (userId, …) indexes): `me`
    // with its counts is one round trip. The user row is the signed-in user's, so these are their own.
    runCount: t.relationCount('runs'),
    starredCardCount: t.relationCount('opportunityCards', { where: { starred: true } }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (created on the first request of a Clerk user)',
    resolve: (query, _root, _args, ctx) => ctx.db.user.findUniqueOrThrow({ ...query, where: { id: ownerOf(ctx).userId } }),
  }),
);
