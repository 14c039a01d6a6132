/**
 * The schema-change policy, as one function over two versions of schema.graphql: which changes would break a
 * deployed frontend (graphql-inspector decides), and which of those this project allows.
 * - A field, argument, input field or enum value may be removed without notice only once it has carried
 *   `@deprecated(reason: "… Removal after YYYY-MM-DD …")` and that date has come.
 * - A new deprecation must name its removal date, at least DEPRECATION_NOTICE_DAYS after it lands.
 * - Any other breaking change needs the commit to say so: a line `Schema-Breaking: <why>` in its message.
 */
import { ChangeType, CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, isEnumType, isInputObjectType, isInterfaceType, isObjectType, type GraphQLSchema } from 'graphql';

export const DEPRECATION_NOTICE_DAYS = 90;
const REMOVAL_DATE = /removal after (\d{4}-\d{2}-\d{2})/i;
export const INTENTIONAL = /^Schema-Breaking: \S.*$/m;

export interface Judgement {
  /** Breaking changes this policy refuses, each with why. */
  refused: string[];
  /** Breaking changes it lets through, and why. */
  allowed: string[];
  /** Non-breaking and dangerous changes, for the log. */
  other: string[];
}

/** The deprecation reason of the element at `path` (Type.field, Type.field.argument, Enum.VALUE), if any. */
function deprecationOf(schema: GraphQLSchema, path: string): string | undefined {
  const [typeName = '', member = '', argument] = path.split('.');
  const type = schema.getType(typeName);
  if (isEnumType(type)) return type.getValue(member)?.deprecationReason ?? undefined;
  if (isInputObjectType(type)) return type.getFields()[member]?.deprecationReason ?? undefined;
  if (isObjectType(type) || isInterfaceType(type)) {
    const field = type.getFields()[member];
    if (argument) return field?.args.find((arg) => arg.name === argument)?.deprecationReason ?? undefined;
    return field?.deprecationReason ?? undefined;
  }
  return undefined;
}

/** Every deprecated element of a schema: path → reason. */
function deprecations(schema: GraphQLSchema): Map<string, string> {
  const found = new Map<string, string>();
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    if (isEnumType(type))
      for (const value of type.getValues()) if (value.deprecationReason) found.set(`${type.name}.${value.name}`, value.deprecationReason);
    if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (field.deprecationReason) found.set(`${type.name}.${field.name}`, field.deprecationReason);
    }
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (field.deprecationReason) found.set(`${type.name}.${field.name}`, field.deprecationReason);
        for (const arg of field.args) if (arg.deprecationReason) found.set(`${type.name}.${field.name}.${arg.name}`, arg.deprecationReason);
      }
    }
  }
  return found;
}

const REMOVALS = new Set<string>([
  ChangeType.FieldRemoved,
  ChangeType.EnumValueRemoved,
  ChangeType.InputFieldRemoved,
  ChangeType.FieldArgumentRemoved,
]);

const describe = (change: Change) => `${change.message} (${String(change.type)}${change.path ? ` at ${change.path}` : ''})`;
const day = (date: Date) => date.toISOString().slice(0, 10);

/** Judges the change from `before` to `after`, committed at `date` with `message`. */
export async function judgeSchemaChange(
  before: string,
  after: string,
  { date, message }: { date: Date; message: string },
): Promise<Judgement> {
  const [oldSchema, newSchema] = [buildSchema(before), buildSchema(after)];
  const judgement: Judgement = { refused: [], allowed: [], other: [] };
  const intentional = INTENTIONAL.exec(message)?.[0];
  for (const change of await diff(oldSchema, newSchema)) {
    if (change.criticality.level !== CriticalityLevel.Breaking) {
      judgement.other.push(`${change.criticality.level}: ${describe(change)}`);
      continue;
    }
    const path: string | undefined = typeof change.path === 'string' ? change.path : undefined;
    const reason = REMOVALS.has(String(change.type)) && path ? deprecationOf(oldSchema, path) : undefined;
    const removalDate = reason ? REMOVAL_DATE.exec(reason)?.[1] : undefined;
    if (removalDate && day(date) >= removalDate) {
      judgement.allowed.push(`${describe(change)}: deprecated ("${reason}") and the date has come`);
    } else if (intentional) {
      judgement.allowed.push(`${describe(change)}: marked intentional ("${intentional}")`);
    } else {
      const hint = removalDate
        ? `deprecated until ${removalDate}: wait until then`
        : 'deprecate it first with `@deprecated(reason: "… Removal after YYYY-MM-DD")`';
      judgement.refused.push(`${describe(change)}: ${hint}, or say why in the commit message with a line "Schema-Breaking: <why>"`);
    }
  }
  const earliest = new Date(date.getTime() + DEPRECATION_NOTICE_DAYS * 86_400_000);
  const known = deprecations(oldSchema);
  for (const [path, reason] of deprecations(newSchema)) {
    if (known.has(path)) continue;
    const removalDate = REMOVAL_DATE.exec(reason)?.[1];
    if (!removalDate || removalDate < day(earliest)) {
      judgement.refused.push(
        `New deprecation of ${path} ("${reason}"): its reason must say "Removal after YYYY-MM-DD", ` +
          `${DEPRECATION_NOTICE_DAYS} days out at least (${day(earliest)} or later)`,
      );
    }
  }
  return judgement;
}
