/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
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

export type CreateRunMutationVariables = Exact<{
  input: CreateRunInput;
  idempotencyKey?: string | null | undefined;
}>;


export type CreateRunMutation = { createRun: { id: string, companyId: string, companyName: string, documentName: string, documentUrl: string, status: RunStatus, currentStage: number, errorMessage: string | null, completedAt: string | null, opportunityCardCount: number } };

export type SetCardStarredMutationVariables = Exact<{
  id: string;
  starred: boolean;
}>;


export type SetCardStarredMutation = { setCardStarred: { id: string, starred: boolean, updatedAt: string } };

export type DeleteRunMutationVariables = Exact<{
  id: string;
}>;


export type DeleteRunMutation = { deleteRun: { deletedRunId: string } };

export type RetryRunMutationVariables = Exact<{
  id: string;
}>;


export type RetryRunMutation = { retryRun: { id: string, status: RunStatus, currentStage: number, errorMessage: string | null, completedAt: string | null, stageOutputs: Array<{ stageNumber: number }>, inspirationReport: { id: string } | null, opportunityCards: Array<{ id: string }> } };

export type CancelRunMutationVariables = Exact<{
  id: string;
}>;


export type CancelRunMutation = { cancelRun: { id: string, status: RunStatus, currentStage: number, errorMessage: string | null, completedAt: string | null } };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, email: string, name: string | null, createdAt: string, runCount: number, starredCardCount: number } };

export type MyRunsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  status?: RunStatus | null | undefined;
  companyId?: string | null | undefined;
}>;


export type MyRunsQuery = { me: { runs: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, status: RunStatus, companyId: string, createdAt: string } }> } } };

export type RunsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  status?: RunStatus | null | undefined;
  companyId?: string | null | undefined;
}>;


export type RunsQuery = { runs: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, status: RunStatus, currentStage: number, companyId: string, companyName: string, createdAt: string } }> } };

export type RunDetailQueryVariables = Exact<{
  id: string;
  stageNumber?: number | null | undefined;
}>;


export type RunDetailQuery = { run: { id: string, companyId: string, companyName: string, documentName: string, documentUrl: string, status: RunStatus, currentStage: number, errorMessage: string | null, createdAt: string, updatedAt: string, completedAt: string | null, opportunityCardCount: number, opportunityCards: Array<{ id: string, number: number, title: string, tagline: string, problem: string, solution: string, whyNow: string, targetSegment: string, quickWin: string, starred: boolean, createdAt: string, updatedAt: string, run: { id: string } }>, inspirationReport: { id: string, createdAt: string, updatedAt: string, inspirations: Array<{ title: string, content: string, elements: Array<string> }> } | null, stageOutputs: Array<{ id: string, stageNumber: number, markdownOutput: string, jsonOutput: unknown, createdAt: string }> } | null };

export type OpportunityCardsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  starred?: boolean | null | undefined;
  runId?: string | null | undefined;
}>;


export type OpportunityCardsQuery = { opportunityCards: { totalCount: number, pageInfo: { hasNextPage: boolean, endCursor: string | null }, edges: Array<{ cursor: string, node: { id: string, number: number, starred: boolean, run: { id: string } } }> } };

export type RunsWithEverythingQueryVariables = Exact<{
  first?: number | null | undefined;
}>;


export type RunsWithEverythingQuery = { runs: { edges: Array<{ node: { opportunityCardCount: number, opportunityCards: Array<{ id: string }>, inspirationReport: { id: string } | null, stageOutputs: Array<{ stageNumber: number }> } }> } };

export type MeCountsQueryVariables = Exact<{ [key: string]: never; }>;


export type MeCountsQuery = { me: { starredCardCount: number, runs: { totalCount: number } } };

export type RunProgressSubscriptionVariables = Exact<{
  id: string;
}>;


export type RunProgressSubscription = { runUpdated: { id: string, status: RunStatus, currentStage: number, errorMessage: string | null, completedAt: string | null } };

export type RunProgressWithOutputsSubscriptionVariables = Exact<{
  id: string;
}>;


export type RunProgressWithOutputsSubscription = { runUpdated: { id: string, status: RunStatus, currentStage: number, opportunityCardCount: number, opportunityCards: Array<{ number: number, title: string }>, stageOutputs: Array<{ stageNumber: number }>, inspirationReport: { id: string } | null } };

export type DashboardSubscriptionVariables = Exact<{
  status?: Array<RunStatus> | RunStatus | null | undefined;
}>;


export type DashboardSubscription = { runsUpdated: { id: string, status: RunStatus, currentStage: number, companyName: string } };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}

export const CreateRunDocument = new TypedDocumentString(`
    mutation CreateRun($input: CreateRunInput!, $idempotencyKey: String) {
  createRun(input: $input, idempotencyKey: $idempotencyKey) {
    id
    companyId
    companyName
    documentName
    documentUrl
    status
    currentStage
    errorMessage
    completedAt
    opportunityCardCount
  }
}
    `, {"hash":"sha256:d9b3337f34b5d711b57d856e58d037a8feb54c20bd45e79ff2b2272bce644601"}) as unknown as TypedDocumentString<CreateRunMutation, CreateRunMutationVariables>;
export const SetCardStarredDocument = new TypedDocumentString(`
    mutation SetCardStarred($id: ID!, $starred: Boolean!) {
  setCardStarred(id: $id, starred: $starred) {
    id
    starred
    updatedAt
  }
}
    `, {"hash":"sha256:1681198fa820f40b0d0f36d1f726be2211060da00fa81910467f14851f7f36d0"}) as unknown as TypedDocumentString<SetCardStarredMutation, SetCardStarredMutationVariables>;
export const DeleteRunDocument = new TypedDocumentString(`
    mutation DeleteRun($id: ID!) {
  deleteRun(id: $id) {
    deletedRunId
  }
}
    `, {"hash":"sha256:9ff4576541f1da6e31abc6e20437c03f7eda1c8524f403167880c44e853fc5da"}) as unknown as TypedDocumentString<DeleteRunMutation, DeleteRunMutationVariables>;
export const RetryRunDocument = new TypedDocumentString(`
    mutation RetryRun($id: ID!) {
  retryRun(id: $id) {
    id
    status
    currentStage
    errorMessage
    completedAt
    stageOutputs {
      stageNumber
    }
    inspirationReport {
      id
    }
    opportunityCards {
      id
    }
  }
}
    `, {"hash":"sha256:6bb91a3bf40045ec3e31c09b61e1934e558a33773cc48856ed8c949047ac2e14"}) as unknown as TypedDocumentString<RetryRunMutation, RetryRunMutationVariables>;
export const CancelRunDocument = new TypedDocumentString(`
    mutation CancelRun($id: ID!) {
  cancelRun(id: $id) {
    id
    status
    currentStage
    errorMessage
    completedAt
  }
}
    `, {"hash":"sha256:288e1fe1f985eb1291edba1ab8ef1230091cd01e91f4199617ebbc9881cb6f08"}) as unknown as TypedDocumentString<CancelRunMutation, CancelRunMutationVariables>;
export const MeDocument = new TypedDocumentString(`
    query Me {
  me {
    id
    email
    name
    createdAt
    runCount
    starredCardCount
  }
}
    `, {"hash":"sha256:dbef5f48ad8c1452efb213d44b1cef67c1cb0156c2dd399686d9b8529becefdc"}) as unknown as TypedDocumentString<MeQuery, MeQueryVariables>;
export const MyRunsDocument = new TypedDocumentString(`
    query MyRuns($first: Int, $after: String, $status: RunStatus, $companyId: String) {
  me {
    runs(first: $first, after: $after, status: $status, companyId: $companyId) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          status
          companyId
          createdAt
        }
      }
    }
  }
}
    `, {"hash":"sha256:ec39b415a585a4a2d3ea6bbed343155964e42ced439ba4499b86643602aca352"}) as unknown as TypedDocumentString<MyRunsQuery, MyRunsQueryVariables>;
export const RunsDocument = new TypedDocumentString(`
    query Runs($first: Int, $after: String, $last: Int, $before: String, $status: RunStatus, $companyId: String) {
  runs(
    first: $first
    after: $after
    last: $last
    before: $before
    status: $status
    companyId: $companyId
  ) {
    totalCount
    pageInfo {
      hasNextPage
      hasPreviousPage
      startCursor
      endCursor
    }
    edges {
      cursor
      node {
        id
        status
        currentStage
        companyId
        companyName
        createdAt
      }
    }
  }
}
    `, {"hash":"sha256:55d5c3be22d5b864f1e2770d166707bb31c879f7d92fd7ccfa8175b766557f76"}) as unknown as TypedDocumentString<RunsQuery, RunsQueryVariables>;
export const RunDetailDocument = new TypedDocumentString(`
    query RunDetail($id: ID!, $stageNumber: Int) {
  run(id: $id) {
    id
    companyId
    companyName
    documentName
    documentUrl
    status
    currentStage
    errorMessage
    createdAt
    updatedAt
    completedAt
    opportunityCardCount
    opportunityCards {
      id
      number
      title
      tagline
      problem
      solution
      whyNow
      targetSegment
      quickWin
      starred
      createdAt
      updatedAt
      run {
        id
      }
    }
    inspirationReport {
      id
      createdAt
      updatedAt
      inspirations {
        title
        content
        elements
      }
    }
    stageOutputs(stageNumber: $stageNumber) {
      id
      stageNumber
      markdownOutput
      jsonOutput
      createdAt
    }
  }
}
    `, {"hash":"sha256:2385a523c765bb9389d041a144da1e325f097e9d5114a4905f1e88083e45f297"}) as unknown as TypedDocumentString<RunDetailQuery, RunDetailQueryVariables>;
export const OpportunityCardsDocument = new TypedDocumentString(`
    query OpportunityCards($first: Int, $after: String, $starred: Boolean, $runId: ID) {
  opportunityCards(first: $first, after: $after, starred: $starred, runId: $runId) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        number
        starred
        run {
          id
        }
      }
    }
  }
}
    `, {"hash":"sha256:c1d23f5c9ac9d12bb54c4324ebe0bd7b5927aee9c8d470a6dc6711476714bae2"}) as unknown as TypedDocumentString<OpportunityCardsQuery, OpportunityCardsQueryVariables>;
export const RunsWithEverythingDocument = new TypedDocumentString(`
    query RunsWithEverything($first: Int) {
  runs(first: $first) {
    edges {
      node {
        opportunityCardCount
        opportunityCards {
          id
        }
        inspirationReport {
          id
        }
        stageOutputs {
          stageNumber
        }
      }
    }
  }
}
    `, {"hash":"sha256:417ad231bfb75c215f9f18df67674c8a40be9c9a199593756014eb370014380a"}) as unknown as TypedDocumentString<RunsWithEverythingQuery, RunsWithEverythingQueryVariables>;
export const MeCountsDocument = new TypedDocumentString(`
    query MeCounts {
  me {
    starredCardCount
    runs {
      totalCount
    }
  }
}
    `, {"hash":"sha256:e99abbffd8bfcb114510c8b79a8fb8c51aed9bdeb6a7a58523ea84989d1ab4f1"}) as unknown as TypedDocumentString<MeCountsQuery, MeCountsQueryVariables>;
export const RunProgressDocument = new TypedDocumentString(`
    subscription RunProgress($id: ID!) {
  runUpdated(id: $id) {
    id
    status
    currentStage
    errorMessage
    completedAt
  }
}
    `, {"hash":"sha256:621551e3c7b95d6c06b71c97e309aa6cee5ddfc9b56214a764eb5e7ab20afd8f"}) as unknown as TypedDocumentString<RunProgressSubscription, RunProgressSubscriptionVariables>;
export const RunProgressWithOutputsDocument = new TypedDocumentString(`
    subscription RunProgressWithOutputs($id: ID!) {
  runUpdated(id: $id) {
    id
    status
    currentStage
    opportunityCardCount
    opportunityCards {
      number
      title
    }
    stageOutputs {
      stageNumber
    }
    inspirationReport {
      id
    }
  }
}
    `, {"hash":"sha256:62b96836e0b68043fb63c07a0a4badf7f01fc86441dd5fddb7a2611dd9d1f5f3"}) as unknown as TypedDocumentString<RunProgressWithOutputsSubscription, RunProgressWithOutputsSubscriptionVariables>;
export const DashboardDocument = new TypedDocumentString(`
    subscription Dashboard($status: [RunStatus!]) {
  runsUpdated(status: $status) {
    id
    status
    currentStage
    companyName
  }
}
    `, {"hash":"sha256:b04f1d4a71e3191e58dd0c4d52b5cf9a4604a770ae89e1440b6c3c5cdfe58c80"}) as unknown as TypedDocumentString<DashboardSubscription, DashboardSubscriptionVariables>;