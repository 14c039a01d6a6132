/** User: the signed-in person, reached only as `me`; its lists are the signed-in user's own. */
import { builder } from './builder';
import { readMe } from '../auth/me';
import { ownerOf } from '../auth/owner';
import { ownRuns, RunConnection } from './run';

export const User = builder.prismaObject('User', {
  description: 'The signed-in user',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Your id in this API (a UUID; not your Clerk user id)' }),
    email: t.exposeString('email', { description: 'Your primary email address, as Clerk knows it' }),
    name: t.exposeString('name', { nullable: true, description: 'Your full name, when Clerk has one' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When you first used this API' }),
    runs: t.prismaConnection(ownRuns, RunConnection),
    // Counts joined into the user's own statement (a LATERAL count through the (userId, …) indexes): `me`
    // with its counts is one round trip. The user row is the signed-in user's, so these are their own.
    runCount: t.relationCount('runs', { description: 'How many runs you have, in all statuses' }),
    starredCardCount: t.relationCount('opportunityCards', { where: { starred: true }, description: 'How many of your cards are starred' }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (created on the first request of a Clerk user)',
    resolve: (query, _root, _args, ctx) => readMe(ctx.services.db, ownerOf(ctx), query),
  }),
);
