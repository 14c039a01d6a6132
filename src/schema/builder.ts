/**
 * The one Pothos schema builder. Model files (user.ts, run.ts, …) add their types, queries and mutations to it;
 * index.ts imports them all and builds the schema.
 */
import SchemaBuilder from '@pothos/core';
import ComplexityPlugin from '@pothos/plugin-complexity';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLScalarType, getNullableType, isListType, type GraphQLField } from 'graphql';
import { DateTimeResolver, JSONResolver } from 'graphql-scalars';
import type PrismaTypes from '../generated/pothos-types';
import { getDatamodel } from '../generated/pothos-types';
import ArgumentChecksPlugin from './argument-checks';
import ExposedColumnsPlugin from './exposed-columns';
import { logger } from '../logger';
import type { Context } from './context';
import { unauthenticated } from './errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const PER_RUN_LIST_SIZE = 5;

export const builder = new SchemaBuilder<{
  Context: Context;
  PrismaTypes: PrismaTypes;
  AuthScopes: { authenticated: boolean };
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    ID: { Input: string; Output: string };
  };
  Connection: { totalCount: number | (() => number | Promise<number>) };
  DefaultFieldNullability: false;
}>({
  defaultFieldNullability: false,
  plugins: [ArgumentChecksPlugin, ScopeAuthPlugin, ComplexityPlugin, ExposedColumnsPlugin, PrismaPlugin, RelayPlugin],
  // Costs only; the limit is applied before execution by src/server/limits.ts.
  complexity: { fieldComplexity },
  scopeAuth: {
    // The context factory signs every request in before anything executes; this is the schema's own
    // statement of that rule, checked again for every root field (and every subscribe).
    authScopes: (context) => ({ authenticated: Boolean(context.user) }),
    unauthorizedError: () => unauthenticated(),
    authorizeOnSubscribe: true,
  },
  prisma: {
    // The request's client: the process's one Prisma client, passed in by the server.
    client: (context) => context.services.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    maxConnectionSize: MAX_PAGE_SIZE,
    // A planned selection nothing used: a hint for whoever writes resolvers, never a client's problem.
    onUnusedQuery: (info) => logger.debug('unused Prisma selection', { field: `${info.parentType.name}.${info.fieldName}` }),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    firstArgOptions: { description: 'Page size from the start (default 20 when neither first nor last is given, at most 100)' },
    lastArgOptions: { description: 'Page size from the end, with before (at most 100)' },
    afterArgOptions: { description: "The items after this cursor (pageInfo.endCursor or an edge's cursor)" },
    beforeArgOptions: { description: "The items before this cursor (pageInfo.startCursor or an edge's cursor)" },
    edgesFieldOptions: { description: 'The items of this page, each with its cursor' },
    pageInfoFieldOptions: { description: 'Where this page is in the whole list' },
    cursorFieldOptions: { description: 'Pass it as after (or before) to page on from this item' },
    nodeFieldOptions: { description: 'The item' },
    pageInfoTypeOptions: { description: 'Where a page is in the whole list (Relay connections)' },
    hasNextPageFieldOptions: { description: 'More items follow this page' },
    hasPreviousPageFieldOptions: { description: 'Items come before this page' },
    startCursorFieldOptions: { description: 'The cursor of the first item of this page (null when empty)' },
    endCursorFieldOptions: { description: 'The cursor of the last item of this page (null when empty)' },
    nodesOnConnection: { description: 'The items of this page' },
    // Ids stay database UUIDs (the pipeline and URLs use them); no global Node interface.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

/**
 * What a field costs: 1, and the cost of its sub-selection multiplied by how many items it can return. A
 * connection returns its page size (`first`/`last`, default 20, at most 100); the per-run lists (cards,
 * stage outputs, inspirations) hold at most five; a connection's edges/nodes are already counted by its page.
 */
function fieldComplexity(args: Record<string, unknown>, _context: Context, field: GraphQLField<unknown, Context, Record<string, unknown>>) {
  if (field.args.some((arg) => arg.name === 'first')) {
    const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : DEFAULT_PAGE_SIZE;
    return { field: 1, multiplier: Math.min(Math.max(size, 0), MAX_PAGE_SIZE) };
  }
  if (!isListType(getNullableType(field.type))) return 1;
  return { field: 1, multiplier: field.name === 'edges' || field.name === 'nodes' ? 1 : PER_RUN_LIST_SIZE };
}

// Every root field reads or writes user data: all of them require a signed-in user.
builder.queryType({ description: 'What you can read: yourself, your runs and your cards', authScopes: { authenticated: true } });
builder.mutationType({
  description: 'What you can change: start, cancel, retry or delete runs, star cards',
  authScopes: { authenticated: true },
});

// Maintained scalars, with this API's descriptions (the printed schema is the clients' contract).
builder.addScalarType(
  'DateTime',
  new GraphQLScalarType({
    ...DateTimeResolver.toConfig(),
    description: 'A point in time as an ISO-8601 string in UTC, e.g. 2025-01-21T09:30:00.000Z',
  }),
);
builder.addScalarType(
  'JSON',
  new GraphQLScalarType({
    ...JSONResolver.toConfig(),
    description: 'Any JSON value (object, array, string, number, boolean or null)',
    specifiedByURL: undefined,
  }),
);

/** Shared `totalCount` for every connection (Pothos fills it in lazily, so it costs a query only when asked). */
builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'Number of items in the whole list (all pages), with the same filters',
    resolve: (connection) => (typeof connection.totalCount === 'function' ? connection.totalCount() : connection.totalCount),
  }),
);
