/** OpportunityCard: one of the five opportunities of a completed run; its owner can star it. */
import { builder } from './builder';
import { notFound } from '../errors';
import { ownerOf, type Owner } from '../auth/owner';
import { Run } from './run';

export const OpportunityCard = builder.prismaObject('OpportunityCard', {
  description: 'One of the five opportunity cards written at stage 5 of a run',
  select: { id: true },
  fields: (t) => ({
    id: t.exposeID('id', { description: "The card's id (a UUID)" }),
    number: t.exposeInt('number', { description: '1 to 5, the order within its run' }),
    title: t.exposeString('title', { description: "The opportunity's name" }),
    tagline: t.exposeString('tagline', { description: 'The opportunity in one line' }),
    problem: t.exposeString('problem', { description: 'The customer problem it addresses' }),
    solution: t.exposeString('solution', { description: 'What the company could offer' }),
    whyNow: t.exposeString('why_now', { description: 'Why the trend report makes it timely' }),
    targetSegment: t.exposeString('target_segment', { description: 'Who it is for' }),
    quickWin: t.exposeString('quick_win', { description: 'A first step the company could take soon' }),
    starred: t.exposeBoolean('starred', { description: 'Starred by you (setCardStarred)' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the pipeline wrote the card' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the card last changed (starring included)' }),
    // A card's run is loaded by a second statement; if the run is deleted in between, the card is gone too:
    // say so (NOT_FOUND) rather than break the non-null contract.
    run: t.field({
      type: Run,
      description: 'The run the card came from',
      select: (_args, _ctx, nestedSelection) => ({ run: nestedSelection() }),
      resolve: (card) => {
        if (!card.run) throw notFound('Run');
        return card.run;
      },
    }),
  }),
});

export const OpportunityCardConnection = builder.connectionObject(
  { type: OpportunityCard, name: 'OpportunityCardConnection', description: 'A page of your opportunity cards' },
  { name: 'OpportunityCardEdge', description: 'A card in a page, with its cursor' },
);

builder.queryField('opportunityCards', (t) =>
  t.prismaConnection(
    {
      type: 'OpportunityCard',
      cursor: 'id',
      description: 'Your opportunity cards, newest first',
      args: {
        starred: t.arg.boolean({ description: 'Only starred (true) or only unstarred (false) cards' }),
        runId: t.arg.id({ description: 'Only the cards of this run' }),
      },
      totalCount: (_connection, args, ctx) => ctx.services.db.opportunityCard.count({ where: cardFilter(ownerOf(ctx), args) }),
      resolve: (query, _root, args, ctx) =>
        ctx.services.db.opportunityCard.findMany({
          ...query,
          where: cardFilter(ownerOf(ctx), args),
          orderBy: [{ createdAt: 'desc' }, { number: 'asc' }, { id: 'desc' }],
        }),
    },
    OpportunityCardConnection,
  ),
);

function cardFilter(owner: Owner, args: { starred?: boolean | null; runId?: string | null }) {
  return owner.cards({
    ...(args.starred != null ? { starred: args.starred } : {}),
    ...(args.runId != null ? { runId: args.runId } : {}),
  });
}

builder.mutationField('setCardStarred', (t) =>
  t.prismaField({
    type: 'OpportunityCard',
    description: 'Star or unstar one of your cards. NOT_FOUND when it does not exist or is not yours.',
    args: {
      id: t.arg.id({ required: true, description: "The card's id" }),
      starred: t.arg.boolean({ required: true, description: 'true to star the card, false to unstar it' }),
    },
    // The owner check is part of the UPDATE's WHERE: someone else's card matches no row (P2025 → NOT_FOUND).
    resolve: (query, _root, { id, starred }, ctx) =>
      ctx.services.db.opportunityCard.update({ ...query, where: ownerOf(ctx).card(id), data: { starred } }),
  }),
);
