'use client';
/**
 * The Apollo Client of client components: one per browser tab (and one per server render of them), created by
 * ApolloNextAppProvider, asking Clerk for a fresh token on every request and every WebSocket connect.
 */
import { useAuth } from '@clerk/nextjs';
import { ApolloClient, ApolloNextAppProvider, InMemoryCache } from '@apollo/client-integration-nextjs';
import { useCallback, useRef, type ReactNode } from 'react';
import { API_URL } from '../api-url';
import { cacheConfig } from './cache';
import { createLink } from './link';

export function ApolloWrapper({ children }: { children: ReactNode }) {
  const { getToken } = useAuth();
  // The client outlives renders; it always asks the latest getToken.
  const latestGetToken = useRef(getToken);
  latestGetToken.current = getToken;
  const makeClient = useCallback(
    () =>
      new ApolloClient({
        cache: new InMemoryCache(cacheConfig),
        link: createLink({ apiUrl: API_URL, getToken: () => latestGetToken.current() }),
      }),
    [],
  );
  return <ApolloNextAppProvider makeClient={makeClient}>{children}</ApolloNextAppProvider>;
}
