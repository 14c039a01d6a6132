/**
 * The Apollo Client of server components: one per request (registerApolloClient keeps it for the request
 * only), signed in as the request's user with Clerk's `auth().getToken()`. A module-level client would share
 * one cache, and so one user's runs, between every request the server renders.
 */
import { auth } from '@clerk/nextjs/server';
import { ApolloClient, InMemoryCache, registerApolloClient } from '@apollo/client-integration-nextjs';
import { API_URL } from '../api-url';
import { cacheConfig } from './cache';
import { createLink } from './link';

export const { getClient, query, PreloadQuery } = registerApolloClient(async () => {
  const { getToken } = await auth();
  return new ApolloClient({ cache: new InMemoryCache(cacheConfig), link: createLink({ apiUrl: API_URL, getToken: () => getToken() }) });
});
