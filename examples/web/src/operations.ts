/**
 * Every operation the page sends. GraphQL Code Generator's client preset (`npm run codegen`, the
 * examples/web/generated/ target of codegen.ts) types them and writes their manifest,
 * examples/web/generated/persisted-documents.json: a production API lists it in TRUSTED_DOCUMENTS and runs only
 * these documents, which the page sends by id.
 */
import { graphql } from '../generated';

export const RunsDocument = graphql(`
  query Runs {
    runs(first: 20) {
      edges {
        node {
          id
          companyName
          status
          currentStage
          createdAt
        }
      }
    }
  }
`);

export const RunsUpdatedDocument = graphql(`
  subscription RunsUpdated {
    runsUpdated {
      id
      companyName
      status
      currentStage
      createdAt
    }
  }
`);

export const FollowRunDocument = graphql(`
  subscription FollowRun($id: ID!) {
    runUpdated(id: $id) {
      id
      status
      currentStage
      errorMessage
      opportunityCards {
        id
        number
        title
        starred
      }
    }
  }
`);

export const StartRunDocument = graphql(`
  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {
    createRun(input: $input, idempotencyKey: $idempotencyKey) {
      id
      companyName
      status
      currentStage
      createdAt
    }
  }
`);

export const CancelRunDocument = graphql(`
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) {
      id
      status
      currentStage
    }
  }
`);

export const StarCardDocument = graphql(`
  mutation StarCard($id: ID!, $starred: Boolean!) {
    setCardStarred(id: $id, starred: $starred) {
      id
      starred
    }
  }
`);
