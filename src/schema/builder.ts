/**
 * The one Pothos schema builder. Model files (user.ts, run.ts, …) add their types, queries and mutations to it;
 * index.ts imports them all and builds the schema.
 */
import SchemaBuilder from '@pothos/core';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import type PrismaTypes from '../generated/pothos-types';
import { getDatamodel } from '../generated/pothos-types';
import type { Context } from './context';
import { unauthenticated } from './errors';

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
  plugins: [ScopeAuthPlugin, PrismaPlugin, RelayPlugin],
  scopeAuth: {
    authScopes: (context) => ({ authenticated: context.user !== null }),
    unauthorizedError: () => unauthenticated(),
  },
  prisma: {
    // The request's client: the process's one Prisma client, passed in by the server.
    client: (context) => context.db,
    dmmf: getDatamodel(),
    filterConnectionTotalCount: true,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    firstArgOptions: { description: 'Page size from the start (default 20 when neither first nor last is given, at most 100)' },
    lastArgOptions: { description: 'Page size from the end, with before (at most 100)' },
    nodesOnConnection: true,
    // Ids stay database UUIDs (the pipeline and URLs use them); no global Node interface.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

// Every root field reads or writes user data: all of them require a signed-in user.
builder.queryType({ authScopes: { authenticated: true } });
builder.mutationType({ authScopes: { authenticated: true } });

function parseDate(value: unknown, ast?: ValueNode): Date {
  const raw = ast ? (ast.kind === Kind.STRING ? ast.value : undefined) : value;
  const date = typeof raw === 'string' ? new Date(raw) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new GraphQLError('DateTime must be an ISO-8601 string');
  return date;
}

builder.addScalarType(
  'DateTime',
  new GraphQLScalarType({
    name: 'DateTime',
    description: 'A point in time as an ISO-8601 string in UTC, e.g. 2025-01-21T09:30:00.000Z',
    serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(value as string).toISOString()),
    parseValue: (value) => parseDate(value),
    parseLiteral: (ast) => parseDate(undefined, ast),
  }),
);

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalToJson(field.value)]));
    default:
      throw new GraphQLError('JSON literals cannot contain variables or enums');
  }
}

builder.addScalarType(
  'JSON',
  new GraphQLScalarType({
    name: 'JSON',
    description: 'Any JSON value (object, array, string, number, boolean or null)',
    serialize: (value) => value,
    parseValue: (value) => value,
    parseLiteral: literalToJson,
  }),
);

/** Shared `totalCount` for every connection (Pothos fills it in lazily, so it costs a query only when asked). */
builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'Number of items in the whole list (all pages), with the same filters',
    resolve: (connection) => (typeof connection.totalCount === 'function' ? connection.totalCount() : connection.totalCount),
  }),
);
