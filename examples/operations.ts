/**
 * What both examples send and print: the same operations, their result types and the output lines. Only the
 * client code differs between examples/apollo.ts and examples/urql.ts; each wraps these documents in its own
 * `gql`.
 */

import { getOperationAST, type DocumentNode } from 'graphql';
import manifest from './generated/persisted-documents.json';

/**
 * Trusted documents: the id of each operation in the manifest codegen wrote (`npm run codegen`, the
 * client preset's persistedDocuments), by operation name. The clients send this id instead of the document's
 * text; the server runs only the documents of the manifests it was deployed with (TRUSTED_DOCUMENTS).
 */
const DOCUMENT_IDS = new Map(Object.entries(manifest).map(([id, document]) => [/^\w+\s+(\w+)/.exec(document)![1]!, id]));
export const documentIdOf = (document: DocumentNode) => DOCUMENT_IDS.get(getOperationAST(document)?.name?.value ?? '');

export const NEW_RUN = {
  companyId: 'lactalis-canada',
  companyName: 'Lactalis Canada',
  documentName: 'trends-2026.pdf',
  documentUrl: 'https://example.com/trends-2026.pdf',
};

/**
 * Starting a run costs real model time: each start carries an idempotency key of its own (made once per start,
 * kept across retries), so a retry after a lost response or a second click answers with the same run.
 */
export const START_RUN = /* GraphQL */ `
  mutation StartRun($input: CreateRunInput!, $idempotencyKey: String) {
    createRun(input: $input, idempotencyKey: $idempotencyKey) {
      id
      status
      currentStage
    }
  }
`;
export interface StartedRun {
  createRun: { id: string; status: string; currentStage: number };
}

export const FOLLOW_RUN = /* GraphQL */ `
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
      }
    }
  }
`;
export interface FollowedRun {
  id: string;
  status: string;
  currentStage: number;
  errorMessage: string | null;
  opportunityCards: Array<{ id: string; number: number; title: string }>;
}

export const MY_RUNS = /* GraphQL */ `
  query MyRuns {
    runs(first: 5) {
      totalCount
      edges {
        node {
          id
          companyName
          status
          opportunityCardCount
        }
      }
    }
  }
`;
export interface MyRuns {
  runs: { totalCount: number; edges: Array<{ node: { id: string; companyName: string; status: string; opportunityCardCount: number } }> };
}

export const STAR_CARD = /* GraphQL */ `
  mutation StarCard($id: ID!) {
    setCardStarred(id: $id, starred: true) {
      id
      starred
    }
  }
`;
export interface StarredCard {
  setCardStarred: { id: string; starred: boolean };
}

/** A run that will change no more. */
export const isFinished = (run: FollowedRun) => ['COMPLETED', 'FAILED', 'CANCELLED'].includes(run.status);

/** The examples' output, line by line. */
export const report = {
  started: (run: StartedRun['createRun']) => console.log(`Started run ${run.id}; following it:`),
  state: (run: FollowedRun) => console.log(`  ${run.status} (stage ${run.currentStage} of 5)`),
  finished: (run: FollowedRun) =>
    console.log(run.status === 'FAILED' ? `Failed: ${run.errorMessage}` : `Finished with ${run.opportunityCards.length} cards`),
  runs: ({ runs }: MyRuns) => {
    console.log(`Your newest runs (${runs.totalCount} in all):`);
    for (const { node } of runs.edges) console.log(`  ${node.id} ${node.companyName} ${node.status}, ${node.opportunityCardCount} cards`);
  },
  starred: (card: FollowedRun['opportunityCards'][number], { setCardStarred }: StarredCard) =>
    console.log(`Starred card ${card.number} "${card.title}": ${setCardStarred.starred}`),
};
