/**
 * A Pothos plugin that checks every argument of every field before its resolver (or subscribe) runs, so a
 * value PostgreSQL cannot store or a cursor this API never issued is the client's BAD_USER_INPUT, naming the
 * argument, instead of a database failure reported as an internal error:
 * - text (any string, at any depth of an input object): no NUL character (PostgreSQL text cannot hold one),
 *   well-formed Unicode (a lone UTF-16 surrogate would be stored as U+FFFD, changing the data), and nothing
 *   that makes a name display as something else: control characters and line breaks (no argument of this
 *   schema is multi-line), bidirectional embeddings, overrides and isolates (`report\u202Efdp.exe` displays as
 *   "reportexe.pdf"), invisible characters, and zero-width joiners anywhere but between two visible
 *   characters (emoji sequences and Persian or Indic text need them there);
 * - `after` / `before`: a cursor as this API issues them (decoded by the Prisma plugin itself).
 * Hand-written because no library knows both PostgreSQL's text rules and Pothos' cursor format; it is one
 * generic wrapper rather than a check repeated in every resolver.
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { parsePrismaCursor } from '@pothos/plugin-prisma';
import type { GraphQLFieldResolver } from 'graphql';
import { badInput } from '../errors';

const CURSOR_ARGUMENTS = new Set(['after', 'before']);

/** Any character `displayProblem` may object to: most text has none, and then costs one regex test. */
const SUSPICIOUS = /[\p{Cc}\u00AD\u180E\u200B-\u200D\u2028-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/u;
const CONTROL_OR_LINE_BREAK = /[\p{Cc}\u2028\u2029]/u;
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/u;
const INVISIBLE = /[\u00AD\u180E\u200B\u2060-\u2064\uFEFF]/u;
const JOINER = /[\u200C\u200D]/u;
/** Whitespace, or a character refused above: a joiner next to one of these joins nothing visible. */
const NOT_VISIBLE = /[\s\p{Cc}\u00AD\u180E\u200B-\u200D\u2028-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/u;

const codePoint = (character: string) => `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `value` would not display as what it is, naming the first offending character and where (in characters). */
function displayProblem(value: string): string | undefined {
  if (!SUSPICIOUS.test(value)) return undefined;
  const characters = [...value];
  for (const [index, character] of characters.entries()) {
    const where = `(${codePoint(character)} at character ${index + 1})`;
    if (CONTROL_OR_LINE_BREAK.test(character)) return `must not contain control characters or line breaks ${where}`;
    if (BIDI_CONTROL.test(character)) return `must not contain bidirectional embedding, override or isolate characters ${where}`;
    if (INVISIBLE.test(character)) return `must not contain invisible characters ${where}`;
    if (JOINER.test(character)) {
      const before = characters[index - 1];
      const after = characters[index + 1];
      if (!before || !after || NOT_VISIBLE.test(before) || NOT_VISIBLE.test(after)) {
        return `must not contain a zero-width joiner or non-joiner except between two visible characters ${where}`;
      }
    }
  }
  return undefined;
}

export function checkText(field: string, value: string): void {
  if (value.includes('\u0000')) throw badInput(field, 'must not contain NUL (U+0000) characters');
  if (!value.isWellFormed()) throw badInput(field, 'must be valid Unicode text (it contains a lone UTF-16 surrogate)');
  const problem = displayProblem(value);
  if (problem) throw badInput(field, problem);
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
