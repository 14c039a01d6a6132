/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "\n  query Runs {\n    runs(first: 20) {\n      edges {\n        node {\n          id\n          companyName\n          status\n          currentStage\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.RunsDocument,
    "\n  subscription RunsUpdated {\n    runsUpdated {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n": typeof types.RunsUpdatedDocument,
    "\n  subscription FollowRun($id: ID!) {\n    runUpdated(id: $id) {\n      id\n      status\n      currentStage\n      errorMessage\n      opportunityCards {\n        id\n        number\n        title\n        starred\n      }\n    }\n  }\n": typeof types.FollowRunDocument,
    "\n  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n": typeof types.StartRunDocument,
    "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      id\n      status\n      currentStage\n    }\n  }\n": typeof types.CancelRunDocument,
    "\n  mutation StarCard($id: ID!, $starred: Boolean!) {\n    setCardStarred(id: $id, starred: $starred) {\n      id\n      starred\n    }\n  }\n": typeof types.StarCardDocument,
};
const documents: Documents = {
    "\n  query Runs {\n    runs(first: 20) {\n      edges {\n        node {\n          id\n          companyName\n          status\n          currentStage\n          createdAt\n        }\n      }\n    }\n  }\n": types.RunsDocument,
    "\n  subscription RunsUpdated {\n    runsUpdated {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n": types.RunsUpdatedDocument,
    "\n  subscription FollowRun($id: ID!) {\n    runUpdated(id: $id) {\n      id\n      status\n      currentStage\n      errorMessage\n      opportunityCards {\n        id\n        number\n        title\n        starred\n      }\n    }\n  }\n": types.FollowRunDocument,
    "\n  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n": types.StartRunDocument,
    "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      id\n      status\n      currentStage\n    }\n  }\n": types.CancelRunDocument,
    "\n  mutation StarCard($id: ID!, $starred: Boolean!) {\n    setCardStarred(id: $id, starred: $starred) {\n      id\n      starred\n    }\n  }\n": types.StarCardDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Runs {\n    runs(first: 20) {\n      edges {\n        node {\n          id\n          companyName\n          status\n          currentStage\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query Runs {\n    runs(first: 20) {\n      edges {\n        node {\n          id\n          companyName\n          status\n          currentStage\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription RunsUpdated {\n    runsUpdated {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  subscription RunsUpdated {\n    runsUpdated {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription FollowRun($id: ID!) {\n    runUpdated(id: $id) {\n      id\n      status\n      currentStage\n      errorMessage\n      opportunityCards {\n        id\n        number\n        title\n        starred\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription FollowRun($id: ID!) {\n    runUpdated(id: $id) {\n      id\n      status\n      currentStage\n      errorMessage\n      opportunityCards {\n        id\n        number\n        title\n        starred\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n"): (typeof documents)["\n  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      id\n      companyName\n      status\n      currentStage\n      createdAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      id\n      status\n      currentStage\n    }\n  }\n"): (typeof documents)["\n  mutation CancelRun($id: ID!) {\n    cancelRun(id: $id) {\n      id\n      status\n      currentStage\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StarCard($id: ID!, $starred: Boolean!) {\n    setCardStarred(id: $id, starred: $starred) {\n      id\n      starred\n    }\n  }\n"): (typeof documents)["\n  mutation StarCard($id: ID!, $starred: Boolean!) {\n    setCardStarred(id: $id, starred: $starred) {\n      id\n      starred\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;