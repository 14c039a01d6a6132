/**
 * One GraphQL operation through yoga's envelope, for the transports that call it directly (graphql-ws, plain
 * HTTP requests in src/server/plain-http.ts, and graphql-sse's single-connection mode in src/server/sse.ts): the document the request may run (src/server/
 * trusted-documents.ts), parsed and validated through yoga's caches and the limits, and its context built by
 * the one context factory. Execution then goes through the envelope's execute or subscribe, so masking,
 * metrics and tracing are the ones yoga's own requests get.
 */
import { getOperationAST, GraphQLError, type DocumentNode, type ExecutionArgs, type GraphQLSchema, type OperationTypeNode } from 'graphql';
import type { GraphQLParams } from 'graphql-yoga';
import type { InitialContext } from './context';
import type { GraphQLServer } from './graphql';
import type { TrustedDocuments } from './trusted-documents';

type Run = (args: ExecutionArgs) => unknown;

export interface PreparedOperation {
  args: ExecutionArgs;
  /** Undefined when the document names no operation the request can run (validation has reported it). */
  type: OperationTypeNode | undefined;
  execute: Run;
  subscribe: Run;
}

/** The prepared operation, or the client's mistakes (the document refused, unparsable, invalid, over a limit). */
export async function prepareOperation(
  graphql: GraphQLServer,
  trustedDocuments: TrustedDocuments,
  params: GraphQLParams,
  initial: InitialContext,
): Promise<PreparedOperation | readonly GraphQLError[]> {
  const query = trustedDocuments.resolve(params);
  if (query instanceof GraphQLError) return [query];
  const enveloped = graphql.getEnveloped({ ...initial, params: { ...params, query } });
  try {
    const schema = enveloped.schema as GraphQLSchema;
    const document = enveloped.parse(query) as DocumentNode;
    const errors = enveloped.validate(schema, document) as readonly GraphQLError[];
    if (errors.length) return errors;
    const contextValue = (await enveloped.contextFactory()) as unknown;
    return {
      args: { schema, document, operationName: params.operationName, variableValues: params.variables, contextValue },
      type: getOperationAST(document, params.operationName)?.operation,
      execute: enveloped.execute as Run,
      subscribe: enveloped.subscribe as Run,
    };
  } catch (error) {
    if (error instanceof GraphQLError) return [error];
    throw error;
  }
}
