/** The GraphQL schema: the builder plus every model file, printed sorted so diffs of schema.graphql are stable. */
import { lexicographicSortSchema, printSchema } from 'graphql';
import { builder } from './builder';
import './user';
import './run';
import './opportunity-card';
import './inspiration-report';
import './stage-output';
import './subscriptions';

export const schema = builder.toSchema({ sortSchema: true });

export function printSchemaSDL(): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
