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
    "\n  fragment RunListItem on Run {\n    id\n    companyId\n    companyName\n    status\n    currentStage\n    createdAt\n  }\n": typeof types.RunListItemFragmentDoc,
    "\n  query DashboardRuns($first: Int!, $after: String, $status: RunStatus) {\n    runs(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RunListItem\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.DashboardRunsDocument,
    "\n  subscription DashboardRunsChanged {\n    runsUpdated {\n      ...RunListItem\n    }\n  }\n": typeof types.DashboardRunsChangedDocument,
    "\n  mutation DashboardStartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunListItem\n    }\n  }\n": typeof types.DashboardStartRunDocument,
    "\n  mutation DashboardDeleteRun($id: ID!) {\n    deleteRun(id: $id) {\n      deletedRunId\n    }\n  }\n": typeof types.DashboardDeleteRunDocument,
};
const documents: Documents = {
    "\n  fragment RunListItem on Run {\n    id\n    companyId\n    companyName\n    status\n    currentStage\n    createdAt\n  }\n": types.RunListItemFragmentDoc,
    "\n  query DashboardRuns($first: Int!, $after: String, $status: RunStatus) {\n    runs(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RunListItem\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.DashboardRunsDocument,
    "\n  subscription DashboardRunsChanged {\n    runsUpdated {\n      ...RunListItem\n    }\n  }\n": types.DashboardRunsChangedDocument,
    "\n  mutation DashboardStartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunListItem\n    }\n  }\n": types.DashboardStartRunDocument,
    "\n  mutation DashboardDeleteRun($id: ID!) {\n    deleteRun(id: $id) {\n      deletedRunId\n    }\n  }\n": types.DashboardDeleteRunDocument,
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
export function graphql(source: "\n  fragment RunListItem on Run {\n    id\n    companyId\n    companyName\n    status\n    currentStage\n    createdAt\n  }\n"): (typeof documents)["\n  fragment RunListItem on Run {\n    id\n    companyId\n    companyName\n    status\n    currentStage\n    createdAt\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DashboardRuns($first: Int!, $after: String, $status: RunStatus) {\n    runs(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RunListItem\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query DashboardRuns($first: Int!, $after: String, $status: RunStatus) {\n    runs(first: $first, after: $after, status: $status) {\n      totalCount\n      edges {\n        cursor\n        node {\n          ...RunListItem\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription DashboardRunsChanged {\n    runsUpdated {\n      ...RunListItem\n    }\n  }\n"): (typeof documents)["\n  subscription DashboardRunsChanged {\n    runsUpdated {\n      ...RunListItem\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardStartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunListItem\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardStartRun($input: CreateRunInput!, $idempotencyKey: String) {\n    createRun(input: $input, idempotencyKey: $idempotencyKey) {\n      ...RunListItem\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DashboardDeleteRun($id: ID!) {\n    deleteRun(id: $id) {\n      deletedRunId\n    }\n  }\n"): (typeof documents)["\n  mutation DashboardDeleteRun($id: ID!) {\n    deleteRun(id: $id) {\n      deletedRunId\n    }\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;