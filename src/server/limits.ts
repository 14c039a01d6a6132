/**
 * Limits on what one GraphQL document may ask for, checked before anything executes (no database work), for
 * queries, mutations and subscriptions over HTTP, SSE and WebSocket alike:
 * - graphql-armor: tokens (the parser stops counting there), depth, aliases, directives, and no field
 *   suggestions when the schema is not public. Its rules memoise fragments, so validation time is bounded
 *   by the document's size, however its fragments fan out;
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
  type GraphQLSchema,
  type ValidationContext,
} from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import type { GraphQLLimits } from '../config';

export type LimitName = 'tokens' | 'depth' | 'aliases' | 'directives' | 'cost' | 'bodySize';

/** Which variable sets each limit, so the error can say how an operator would raise it. */
const SETTING: Record<LimitName, string> = {
  tokens: 'GRAPHQL_MAX_TOKENS',
  depth: 'GRAPHQL_MAX_DEPTH',
  aliases: 'GRAPHQL_MAX_ALIASES',
  directives: 'GRAPHQL_MAX_DIRECTIVES',
  cost: 'GRAPHQL_MAX_COST',
  bodySize: 'HTTP_MAX_BODY_BYTES',
};

export function limitExceeded(limit: LimitName, message: string, max: number, status = 400): GraphQLError {
  return new GraphQLError(message, {
    extensions: { code: 'QUERY_LIMIT_EXCEEDED', limit, max, setting: SETTING[limit], http: { status } },
  });
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
const badVariables = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

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
  return [armor as Plugin, costLimit(limits.maxCost), ...(limits.introspection ? [] : [noIntrospection])];
}
