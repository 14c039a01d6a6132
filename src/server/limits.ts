/**
 * Limits on what one GraphQL document may ask for, checked before anything executes (no database work), for
 * queries, mutations and subscriptions over HTTP, SSE and WebSocket alike:
 * - graphql-armor: tokens (the parser stops counting there), depth, aliases, directives, and no field
 *   suggestions when the schema is not public. Its rules memoise fragments, so validation time is bounded
 *   by the document's size, however its fragments fan out;
 * - repeated fields: how often one response name may be selected in one selection set, checked before
 *   graphql-js validates (its rule that overlapping fields can merge compares every pair of them);
 * - cost: Pothos' complexity rule, with the field costs the schema builder declares (page sizes count).
 *   It depends on the page-size variables, so it runs after yoga's cached validation, once per document and
 *   page sizes.
 * Each violation is a 400 with `extensions.code: QUERY_LIMIT_EXCEEDED` and which limit it was.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createComplexityRule } from '@pothos/plugin-complexity';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  validate,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { GraphQLLimits } from '../config';
import { clientError } from '../errors';

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'directives' | 'cost' | 'repeatedFields' | 'bodySize';

/** Which variable sets each limit, so the error can say how an operator would raise it. */
const SETTING: Record<LimitName, string> = {
  tokens: 'GRAPHQL_MAX_TOKENS',
  depth: 'GRAPHQL_MAX_DEPTH',
  aliases: 'GRAPHQL_MAX_ALIASES',
  directives: 'GRAPHQL_MAX_DIRECTIVES',
  cost: 'GRAPHQL_MAX_COST',
  repeatedFields: 'GRAPHQL_MAX_REPEATED_FIELDS',
  bodySize: 'HTTP_MAX_BODY_BYTES',
};

export function limitExceeded(limit: LimitName, message: string, max: number, status = 400): GraphQLError {
  return clientError('QUERY_LIMIT_EXCEEDED', message, { limit, max, setting: SETTING[limit] }, { status });
}

/** graphql-armor reports "Syntax Error: Query depth limit of 10 exceeded, found 12."; keep the sentence. */
const armorMessage = (error: GraphQLError) => error.message.replace(/^Syntax Error: /, '');

function reportTo(limit: LimitName, max: number) {
  return (context: ValidationContext | null, error: GraphQLError) => {
    const exceeded = limitExceeded(limit, armorMessage(error), max);
    // The token limit fires inside the parser (no validation context): stop parsing right there.
    if (!context) throw exceeded;
    context.reportError(exceeded);
  };
}

/** Variables the operation cannot run with: a 400 before anything runs. */
const badVariables = (message: string) => clientError('BAD_USER_INPUT', message, {}, { status: 400 });

/** The cost verdict of one (document, operation, variables): undefined when within the limit. */
function costVerdict(schema: GraphQLSchema, document: DocumentNode, request: GraphQLParams | undefined, maxCost: number) {
  const rule = createComplexityRule({
    context: {},
    variableValues: request?.variables ?? {},
    operationName: request?.operationName ?? undefined,
    maxComplexity: maxCost,
  });
  const [error] = validate(schema, document, [rule]);
  if (!error) return undefined;
  return error.extensions.code === 'QUERY_COMPLEXITY'
    ? limitExceeded('cost', `${error.message}: ask for smaller pages or fewer fields`, maxCost)
    : // Variables the operation cannot run with (a float for an Int, a missing one).
      badVariables(error.message);
}

/** The arguments a field's cost depends on (see fieldComplexity in src/schema/builder.ts). */
const PAGE_SIZE_ARGUMENTS = new Set(['first', 'last']);

/** The variables a document passes as page sizes: the only ones its cost depends on. */
function pageSizeVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Argument(node) {
      if (PAGE_SIZE_ARGUMENTS.has(node.name.value) && node.value.kind === Kind.VARIABLE) names.add(node.value.name.value);
    },
  });
  return [...names];
}

/** Variables the operation cannot run with (a float for an Int, a missing one), as a 400. */
function variableError(schema: GraphQLSchema, document: DocumentNode, request: GraphQLParams | undefined): GraphQLError | undefined {
  const operation = getOperationAST(document, request?.operationName ?? undefined);
  if (!operation?.variableDefinitions?.length) return undefined;
  const { errors } = getVariableValues(schema, operation.variableDefinitions, request?.variables ?? {}, { maxErrors: 1 });
  const [error] = errors ?? [];
  return error && badVariables(error.message);
}

/**
 * Runs after validation, cached or not. It throws instead of adding to the validation result, because yoga
 * caches that result by document and this verdict depends on the variables. Verdicts are remembered per parsed
 * document (yoga hands the same document object for the same text), operation and page-size variables: a
 * client repeating an operation pays for the cost rule once, and so do ten thousand subscriptions that differ
 * only in the run they follow. Their other variables are still checked on every request (cheaply).
 */
function costLimit(maxCost: number): Plugin {
  const verdicts = new WeakMap<DocumentNode, { pageSizes: string[]; byRequest: LRUCache<string, { error?: GraphQLError }> }>();
  return {
    onValidate({ params, context }) {
      const schema = params.schema as GraphQLSchema;
      const document = params.documentAST as DocumentNode;
      return ({ valid }) => {
        if (!valid) return; // report the document's own errors first
        const request = (context as { params?: GraphQLParams }).params;
        const invalid = variableError(schema, document, request);
        if (invalid) throw invalid;
        let known = verdicts.get(document);
        if (!known) verdicts.set(document, (known = { pageSizes: pageSizeVariables(document), byRequest: new LRUCache({ max: 100 }) }));
        const variables: Record<string, unknown> = request?.variables ?? {};
        const key = `${request?.operationName ?? ''}\u0000${JSON.stringify(known.pageSizes.map((name): unknown => variables[name]))}`;
        const { byRequest } = known;
        let verdict = byRequest.get(key);
        if (!verdict) byRequest.set(key, (verdict = { error: costVerdict(schema, document, request, maxCost) }));
        // A fresh error each time: yoga adds to the errors it sends.
        if (verdict.error) throw new GraphQLError(verdict.error.message, { extensions: { ...verdict.error.extensions } });
      };
    },
  };
}

/**
 * The response name selected most often in one selection set, counting through inline fragments and named
 * fragments (each named fragment once per set, as graphql-js merges them), and how often. Hand-written because
 * no maintained rule bounds it: graphql-js's OverlappingFieldsCanBeMerged compares every pair of fields sharing
 * a response name, so `{ __typename ×1900 }` (one token per repeat, under the token limit) costs tens of
 * milliseconds of validation. Linear in the document: each fragment's counts are computed once.
 */
export function mostRepeatedField(document: DocumentNode): { name: string; count: number } | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const ofFragment = new Map<string, Map<string, number>>();
  const counting = new Set<string>(); // fragment cycles are invalid anyway (validation reports them): count nothing
  const add = (into: Map<string, number>, from: Map<string, number>) => {
    for (const [name, count] of from) into.set(name, (into.get(name) ?? 0) + count);
  };
  const countsOf = (set: SelectionSetNode, spread: Set<string>, into = new Map<string, number>()): Map<string, number> => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        into.set(name, (into.get(name) ?? 0) + 1);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        countsOf(selection.selectionSet, spread, into);
      } else if (!spread.has(selection.name.value)) {
        spread.add(selection.name.value);
        add(into, fragmentCounts(selection.name.value));
      }
    }
    return into;
  };
  const fragmentCounts = (name: string): Map<string, number> => {
    const known = ofFragment.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || counting.has(name)) return new Map();
    counting.add(name);
    const counts = countsOf(fragment.selectionSet, new Set([name]));
    counting.delete(name);
    ofFragment.set(name, counts);
    return counts;
  };
  let worst: { name: string; count: number } | undefined;
  visit(document, {
    SelectionSet(set) {
      for (const [name, count] of countsOf(set, new Set())) if (count > (worst?.count ?? 0)) worst = { name, count };
    },
  });
  return worst;
}

/**
 * Refuses, before graphql-js's validation runs, a document selecting one response name more than `max` times in
 * one selection set. The verdict is kept per parsed document (yoga hands the same object for the same text).
 */
function repeatedFieldLimit(max: number): Plugin {
  const verdicts = new WeakMap<DocumentNode, GraphQLError | null>();
  return {
    onValidate({ params, setResult }) {
      const document = params.documentAST as DocumentNode;
      let verdict = verdicts.get(document);
      if (verdict === undefined) {
        const worst = mostRepeatedField(document);
        verdict =
          worst && worst.count > max
            ? limitExceeded(
                'repeatedFields',
                `Field "${worst.name}" is selected ${worst.count} times in one selection set; at most ${max}`,
                max,
              )
            : null;
        verdicts.set(document, verdict);
      }
      if (verdict) setResult([new GraphQLError(verdict.message, { extensions: { ...verdict.extensions } })]);
    },
  };
}

/** Introspection is answered only where the schema is public (never in production unless enabled). */
const noIntrospection: Plugin = {
  onValidate({ addValidationRule }) {
    addValidationRule(NoSchemaIntrospectionCustomRule);
  },
};

export function limitPlugins(limits: GraphQLLimits): Plugin[] {
  const armor = EnvelopArmorPlugin({
    maxTokens: { n: limits.maxTokens, onReject: [reportTo('tokens', limits.maxTokens)] },
    maxDepth: {
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: true,
      propagateOnRejection: false,
      onReject: [reportTo('depth', limits.maxDepth)],
    },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [reportTo('aliases', limits.maxAliases)] },
    maxDirectives: { n: limits.maxDirectives, propagateOnRejection: false, onReject: [reportTo('directives', limits.maxDirectives)] },
    costLimit: { enabled: false }, // Pothos' rule below knows page sizes from variables too
    // "Did you mean …" would reveal field names of a schema that is not public.
    blockFieldSuggestion: { enabled: !limits.introspection },
  });
  return [
    repeatedFieldLimit(limits.maxRepeatedFields),
    armor as Plugin,
    costLimit(limits.maxCost),
    ...(limits.introspection ? [] : [noIntrospection]),
  ];
}
