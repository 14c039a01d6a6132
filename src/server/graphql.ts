/** graphql-yoga serving the Pothos schema at /graphql, with GraphiQL (bundled, works offline) outside production. */
import { GraphQLError } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import type { AppConfig } from '../config';
import { toClientError } from '../db/errors';
import type { Context } from '../schema/context';
import { schema } from '../schema';
import { logger } from '../logger';
import { createContextFactory, type ContextDependencies } from './context';

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = `# Sign in first: in a terminal run
#   npm run token -- --user test_user_123
# and paste the printed header into the Headers tab below:
#   { "Authorization": "Bearer <token>" }

query Dashboard {
  me {
    email
    runCount
    starredCardCount
    runs(first: 5) {
      totalCount
      edges {
        node {
          id
          companyName
          status
          currentStage
          opportunityCards { number title starred }
        }
      }
    }
  }
}
`;

export type GraphQLServer = YogaServerInstance<Record<string, unknown>, Context>;

export function createGraphQLServer(config: AppConfig, dependencies: ContextDependencies): GraphQLServer {
  const production = config.nodeEnv === 'production';
  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    context: createContextFactory(dependencies),
    landingPage: false,
    graphiql: production ? false : { title: 'opportunity-api', defaultQuery: EXAMPLE_QUERY },
    // Loaded only when GraphiQL is served: a 9 MB self-contained bundle, so no CDN is needed.
    renderGraphiQL: production ? undefined : (options) => (require('@graphql-yoga/render-graphiql') as typeof import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    // Production: anything that is not a deliberate client error becomes "Unexpected error." with no details.
    maskedErrors: {
      isDev: !production,
      maskError: (error, message, isDev) => {
        const original = (error as { originalError?: unknown }).originalError ?? error;
        const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
        if (typeof code === 'string' && code !== 'INTERNAL_SERVER_ERROR') return error as Error;
        // Unknown failures are logged once here with their details; the client gets only a code.
        toClientError(original);
        return new GraphQLError(isDev && original instanceof Error ? original.message : message, {
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        });
      },
    },
    logging: {
      debug: (...args) => logger.debug(String(args[0]), { detail: args.slice(1) }),
      info: (...args) => logger.info(String(args[0])),
      warn: (...args) => logger.warn(String(args[0])),
      error: (...args) => logger.error(String(args[0]), { detail: args.slice(1).map(String) }),
    },
  });
}
