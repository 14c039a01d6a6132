/**
 * A Pothos plugin that answers an exposed column of a Prisma object straight from its row when the row holds
 * it. The Prisma plugin wraps every field of a select-mode object (src/schema/run.ts and the others) to find
 * out whether the row in hand was loaded by a query that selected the field (else it loads the field itself):
 * a lookup keyed by the field's whole response path, per field and per row, which the CPU profile of a page of
 * runs puts at a fifth of the server's time (bench/results/). For a column the answer is simpler: a row Prisma
 * loaded holds every column its query selected (null when the column is null, never undefined), so a value
 * present is the loaded one, and only a missing one needs the Prisma plugin's path (and its loader). Relations,
 * counts and computed fields keep that path. Hand-written because Pothos has no option for it; it must be
 * listed before the Prisma plugin, so that it wraps the Prisma plugin's resolver.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import type { GraphQLFieldResolver } from 'graphql';

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

export class ExposedColumnsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    const column: unknown = fieldConfig.extensions?.pothosExposedField;
    if (fieldConfig.kind !== 'PrismaObject' || typeof column !== 'string' || !fieldConfig.extensions?.pothosPrismaSelect) return resolver;
    return (parent, args, context, info) => {
      const value = (parent as Record<string, unknown>)[column];
      return value === undefined ? resolver(parent, args, context, info) : value;
    };
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Pothos declares plugin types in its global namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      exposedColumns: ExposedColumnsPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('exposedColumns', ExposedColumnsPlugin);
export default 'exposedColumns' as const;
