/**
 * src/schema/exposed-columns.ts: an exposed column of a select-mode Prisma object is answered from the row
 * that holds it, and only a row without it takes the Prisma plugin's path (which loads the field with the
 * request's client). Resolvers called directly, as the executor calls them; no database is reached.
 */
import { isObjectType, type GraphQLResolveInfo } from 'graphql';
import { schema } from '../../src/schema';

function resolverOf(typeName: string, fieldName: string) {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const field = type.getFields()[fieldName]!;
  return (row: object) =>
    field.resolve!(row, {}, {}, {
      fieldName,
      parentType: type,
      returnType: field.type,
      path: { prev: undefined, key: fieldName, typename: typeName },
    } as unknown as GraphQLResolveInfo);
}

it('answers a column the row holds from the row, null included, without asking Prisma', () => {
  // The context is empty: the Prisma plugin's own path needs the request's client and fails without it.
  expect(resolverOf('Run', 'companyName')({ id: 'r1', companyName: 'Lactalis' })).toBe('Lactalis');
  expect(resolverOf('Run', 'errorMessage')({ id: 'r1', errorMessage: null })).toBeNull();
  expect(resolverOf('OpportunityCard', 'whyNow')({ id: 'c1', why_now: 'Because' })).toBe('Because');
  const createdAt = new Date('2026-01-01T00:00:00Z');
  expect(resolverOf('StageOutput', 'createdAt')({ id: 'o1', createdAt })).toBe(createdAt);
});

it('leaves a row without the column, and every field that is not a column, to the Prisma plugin', () => {
  expect(() => resolverOf('Run', 'companyName')({ id: 'r1' })).toThrow();
  expect(() => resolverOf('Run', 'opportunityCardCount')({ id: 'r1', opportunityCardCount: 5 })).toThrow();
});
