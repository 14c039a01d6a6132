/**
 * The dashboard's operations. `npm run codegen` types them (examples/nextjs/generated/) and writes their
 * trusted-documents manifest, examples/nextjs/generated/persisted-documents.json, for the API's
 * TRUSTED_DOCUMENTS. Every operation selects a run through the same fragment, so every answer and every live
 * update writes the same fields of the same cached Run.
 */
import { graphql } from '../generated';

export const RunListItem = graphql(`
  fragment RunListItem on Run {
    id
    companyId
    companyName
    status
    currentStage
    createdAt
  }
`);

export const DashboardRunsDocument = graphql(`
  query DashboardRuns($first: Int!, $after: String, $status: RunStatus) {
    runs(first: $first, after: $after, status: $status) {
      totalCount
      edges {
        cursor
        node {
          ...RunListItem
        }
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const DashboardRunsChangedDocument = graphql(`
  subscription DashboardRunsChanged {
    runsUpdated {
      ...RunListItem
    }
  }
`);

export const DashboardStartRunDocument = graphql(`
  mutation DashboardStartRun($input: CreateRunInput!, $idempotencyKey: String) {
    createRun(input: $input, idempotencyKey: $idempotencyKey) {
      ...RunListItem
    }
  }
`);

export const DashboardDeleteRunDocument = graphql(`
  mutation DashboardDeleteRun($id: ID!) {
    deleteRun(id: $id) {
      deletedRunId
    }
  }
`);
