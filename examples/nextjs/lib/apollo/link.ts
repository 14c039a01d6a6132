/**
 * How the dashboard's Apollo Client talks to the API: every request with a fresh Clerk session token as a Bearer
 * token (the API is on another site, so Clerk's cookie never reaches it), every operation by its id in the
 * trusted-documents manifest, subscriptions over graphql-ws (in the browser; on the server there are none).
 */
import { ApolloLink, HttpLink } from '@apollo/client';
import { SetContextLink } from '@apollo/client/link/context';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { getOperationAST, OperationTypeNode, parse, type DocumentNode } from 'graphql';
import { createClient } from 'graphql-ws';
import manifest from '../../generated/persisted-documents.json';

/** Clerk's `getToken()`: `useAuth().getToken` in the browser, `(await auth()).getToken` on the server. */
export type GetToken = () => Promise<string | null>;

const DOCUMENT_IDS = new Map(Object.entries(manifest).map(([id, text]) => [getOperationAST(parse(text))?.name?.value, id]));
const documentIdOf = (document: DocumentNode) => DOCUMENT_IDS.get(getOperationAST(document)?.name?.value) ?? '';

export interface LinkOptions {
  apiUrl: string;
  getToken: GetToken;
  /** graphql-ws's WebSocket implementation outside a browser (tests); the browser's own otherwise. */
  webSocketImpl?: unknown;
}

export function createLink({ apiUrl, getToken, webSocketImpl }: LinkOptions): ApolloLink {
  const withToken = new SetContextLink(async ({ headers }) => {
    const token = await getToken();
    return { headers: { ...(headers as Record<string, string>), ...(token ? { authorization: `Bearer ${token}` } : {}) } };
  });
  const http = ApolloLink.from([withToken, new HttpLink({ uri: apiUrl })]);
  const persisted = new PersistedQueryLink({ generateHash: documentIdOf });
  if (typeof window === 'undefined' && !webSocketImpl) return ApolloLink.from([persisted, http]);
  const ws = new GraphQLWsLink(
    createClient({
      url: apiUrl.replace(/^http/, 'ws'),
      webSocketImpl,
      lazy: true, // connect on the first subscription, and again after a close
      connectionParams: async () => ({ authorization: `Bearer ${(await getToken()) ?? ''}` }), // a fresh token each connect
      retryAttempts: Infinity,
    }),
  );
  return ApolloLink.from([
    persisted,
    ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, ws, http),
  ]);
}
