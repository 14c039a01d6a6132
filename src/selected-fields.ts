/**
 * The names of the fields a client selected directly under a field (through fragments, aliases, @skip and
 * @include, as the executor sees them): what a connection's resolver and a subscription need to know of their
 * own selection. graphql-tools memoises the collection per field nodes, so a cached document pays for it once.
 */
import { collectSubFields } from '@graphql-tools/utils';
import { getNamedType, isObjectType, type GraphQLResolveInfo } from 'graphql';

export function selectedFieldNames(info: GraphQLResolveInfo): Set<string> {
  const type = getNamedType(info.returnType);
  if (!isObjectType(type)) return new Set();
  const { fields } = collectSubFields(info.schema, info.fragments, info.variableValues, type, [...info.fieldNodes]);
  return new Set([...fields.values()].flatMap((nodes) => nodes.map((node) => node.name.value)));
}
