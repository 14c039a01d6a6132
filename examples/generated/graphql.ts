/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** A run to start: which company, and its trend report */
export type CreateRunInput = {
  /** Lowercase slug, at most 64 characters, e.g. lactalis-canada */
  companyId: string;
  /** 1 to 200 characters */
  companyName: string;
  /** File name of the trend report, 1 to 255 characters */
  documentName: string;
  /** https URL of the uploaded report on a public host (http too outside production), at most 2048 characters; stored normalised. No IP addresses, user names or private hosts. */
  documentUrl: string;
};

/** Where a run is in the pipeline */
export type RunStatus =
  /** Stopped by its user (cancelRun) before it finished; retryRun puts it back */
  | 'CANCELLED'
  /** All five stages done: its report and cards are written */
  | 'COMPLETED'
  /** Stopped at a stage: errorMessage says why; retryRun puts it back */
  | 'FAILED'
  /** Waiting for the pipeline to take it (stage 0) */
  | 'PENDING'
  /** The pipeline is working on it: currentStage says which stage */
  | 'RUNNING';

export type StartRunMutationVariables = Exact<{
  input: CreateRunInput;
  idempotencyKey?: string | null | undefined;
}>;


export type StartRunMutation = { __typename: 'Mutation', createRun: { __typename: 'Run', id: string, status: RunStatus, currentStage: number } };

export type FollowRunSubscriptionVariables = Exact<{
  id: string;
}>;


export type FollowRunSubscription = { runUpdated: { __typename: 'Run', id: string, status: RunStatus, currentStage: number, errorMessage: string | null, opportunityCards: Array<{ __typename: 'OpportunityCard', id: string, number: number, title: string }> } };

export type MyRunsQueryVariables = Exact<{ [key: string]: never; }>;


export type MyRunsQuery = { __typename: 'Query', runs: { __typename: 'RunConnection', totalCount: number, edges: Array<{ __typename: 'RunEdge', node: { __typename: 'Run', id: string, companyName: string, status: RunStatus, opportunityCardCount: number } }> } };

export type StarCardMutationVariables = Exact<{
  id: string;
}>;


export type StarCardMutation = { __typename: 'Mutation', setCardStarred: { __typename: 'OpportunityCard', id: string, starred: boolean } };


export const StartRunDocument = {"__meta__":{"hash":"sha256:b101e6d538770c381f372283804cefcdfcf24568fd31d42851ecad3e4a14e924"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StartRun"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"input"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"CreateRunInput"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"createRun"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"Variable","name":{"kind":"Name","value":"input"}}},{"kind":"Argument","name":{"kind":"Name","value":"idempotencyKey"},"value":{"kind":"Variable","name":{"kind":"Name","value":"idempotencyKey"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"currentStage"}}]}}]}}]} as unknown as DocumentNode<StartRunMutation, StartRunMutationVariables>;
export const FollowRunDocument = {"__meta__":{"hash":"sha256:9f37f10ae3db20972906f8e628617b82ddba9125c8c913a7b00e3e5c2020c179"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"subscription","name":{"kind":"Name","value":"FollowRun"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"runUpdated"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"currentStage"}},{"kind":"Field","name":{"kind":"Name","value":"errorMessage"}},{"kind":"Field","name":{"kind":"Name","value":"opportunityCards"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"number"}},{"kind":"Field","name":{"kind":"Name","value":"title"}}]}}]}}]}}]} as unknown as DocumentNode<FollowRunSubscription, FollowRunSubscriptionVariables>;
export const MyRunsDocument = {"__meta__":{"hash":"sha256:4bc111950cfbd3678699d35021211cff27ddd22ff30d84f8ebeab5aea3ea47c5"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MyRuns"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"runs"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"IntValue","value":"5"}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"totalCount"}},{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"companyName"}},{"kind":"Field","name":{"kind":"Name","value":"status"}},{"kind":"Field","name":{"kind":"Name","value":"opportunityCardCount"}}]}}]}}]}}]}}]} as unknown as DocumentNode<MyRunsQuery, MyRunsQueryVariables>;
export const StarCardDocument = {"__meta__":{"hash":"sha256:e9e071b89db780296b04d8a2ad420c79611207b95d9dcc74b78fb6bd41680c9b"},"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"StarCard"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"setCardStarred"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}},{"kind":"Argument","name":{"kind":"Name","value":"starred"},"value":{"kind":"BooleanValue","value":true}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"__typename"}},{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"starred"}}]}}]}}]} as unknown as DocumentNode<StarCardMutation, StarCardMutationVariables>;