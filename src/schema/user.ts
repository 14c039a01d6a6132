/** User: the signed-in person, reached only as `me`. */
import { builder } from './builder';
import { currentUser } from './context';
import { db } from './errors';
import { newestFirst, RunConnection, RunStatusEnum } from './run';

export const User = builder.prismaObject('User', {
  description: 'The signed-in user',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name', { nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    runs: t.relatedConnection(
      'runs',
      {
        cursor: 'id',
        description: 'Your runs, newest first',
        totalCount: true,
        args: {
          status: t.arg({ type: RunStatusEnum, description: 'Only runs in this status' }),
          companyId: t.arg.string({ description: 'Only runs for this company slug' }),
        },
        query: (args) => ({
          where: {
            ...(args.status != null ? { status: args.status } : {}),
            ...(args.companyId != null ? { companyId: args.companyId } : {}),
          },
          orderBy: newestFirst,
        }),
      },
      RunConnection,
    ),
    runCount: t.relationCount('runs'),
    starredCardCount: t.relationCount('opportunityCards', { where: { starred: true } }),
  }),
});

builder.queryField('me', (t) =>
  t.prismaField({
    type: 'User',
    description: 'The signed-in user (created on the first request of a Clerk user)',
    resolve: (query, _root, _args, ctx) => db(ctx.db.user.findUniqueOrThrow({ ...query, where: { id: currentUser(ctx).id } })),
  }),
);
