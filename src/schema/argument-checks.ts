/**
 * A Pothos plugin that checks every argument of every field before its resolver (or subscribe) runs, so a
 * value PostgreSQL cannot store or a cursor this API never issued is the client's BAD_USER_INPUT, naming the
 * argument, instead of a database failure reported as an internal error:
 * - text (any string, at any depth of an input object): no NUL character (PostgreSQL text cannot hold one)
 *   and well-formed Unicode (a lone UTF-16 surrogate would be stored as U+FFFD, changing the data);
 * - `after` / `before`: a cursor as this API issues them (decoded by the Prisma plugin itself).
 * Hand-written because no library knows both PostgreSQL's text rules and Pothos' cursor format; it is one
 * generic wrapper rather than a check repeated in every resolver.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { parsePrismaCursor } from '@pothos/plugin-prisma';
import type { GraphQLFieldResolver } from 'graphql';
import { badInput } from './errors';

const CURSOR_ARGUMENTS = new Set(['after', 'before']);

export function checkText(field: string, value: string): void {
  if (value.includes('\u0000')) throw badInput(field, 'must not contain NUL (U+0000) characters');
  if (!value.isWellFormed()) throw badInput(field, 'must be valid Unicode text (it contains a lone UTF-16 surrogate)');
}

function checkCursor(field: string, value: string): void {
  let decoded: unknown;
  try {
    decoded = parsePrismaCursor(value);
  } catch {
    decoded = undefined;
  }
  // Every list here pages by id, so every cursor this API issues holds a string.
  if (typeof decoded !== 'string') throw badInput(field, 'is not a cursor returned by this API (use pageInfo.endCursor or an edge cursor)');
}

function checkValue(field: string, value: unknown): void {
  if (typeof value === 'string') {
    checkText(field, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkValue(`${field}[${index}]`, item));
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [name, inner] of Object.entries(value)) checkValue(`${field}.${name}`, inner);
  }
}

export function checkArguments(args: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(args)) {
    checkValue(name, value);
    if (CURSOR_ARGUMENTS.has(name) && typeof value === 'string') checkCursor(name, value);
  }
}

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

export class ArgumentChecksPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override wrapResolve(resolver: Resolver<Types>, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> {
    if (Object.keys(fieldConfig.args).length === 0) return resolver;
    return (parent, args, context, info) => {
      checkArguments(args as Record<string, unknown>);
      return resolver(parent, args, context, info);
    };
  }

  override wrapSubscribe(subscribe: Resolver<Types> | undefined, fieldConfig: PothosOutputFieldConfig<Types>): Resolver<Types> | undefined {
    if (!subscribe || Object.keys(fieldConfig.args).length === 0) return subscribe;
    return (parent, args, context, info) => {
      checkArguments(args as Record<string, unknown>);
      return subscribe(parent, args, context, info);
    };
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Pothos declares plugin types in its global namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      argumentChecks: ArgumentChecksPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('argumentChecks', ArgumentChecksPlugin);
export default 'argumentChecks' as const;
