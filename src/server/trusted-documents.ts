/**
 * Trusted documents: the operations this API's frontends ship, published as persisted-document manifests
 * (GraphQL Code Generator's client preset writes `persisted-documents.json`: document id → document). In
 * production only those run, by id, over HTTP, SSE and graphql-ws alike; a document sent as text is refused
 * unless ALLOW_ARBITRARY_DOCUMENTS reopens it (development is open).
 *
 * A request names its document by `documentId` or by Apollo's `extensions.persistedQuery.sha256Hash`. When
 * that id is in the manifests, the manifest's document runs, whatever text came with it (Apollo's graphql-ws
 * link always sends the text beside the hash). An id that is not listed answers `PersistedQueryNotFound` where
 * documents may be sent as text, which is what makes an automatic-persisted-queries client (Apollo's
 * PersistedQueryLink, urql's persistedExchange) send the text instead; in trusted-only mode it answers
 * PERSISTED_DOCUMENT_NOT_FOUND, saying what to do. yoga's handler goes through its persisted-operations plugin;
 * the doors that build the envelope themselves (graphql-ws, and the plain door through src/server/operation.ts)
 * ask `resolve` directly.
 */
import { readFile } from 'node:fs/promises';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { z } from 'zod';
import { ConfigError, type TrustedDocumentsConfig } from '../config';
import { clientError } from '../errors';

const manifestSchema = z.record(z.string().min(1), z.string().min(1));

/** The refusals, with the status and code a client can act on. */
const refusals = {
  /** APQ's own wording: clients that speak automatic persisted queries send the document's text next. */
  notFoundRegistrable: () => clientError('PERSISTED_QUERY_NOT_FOUND', 'PersistedQueryNotFound'),
  notFoundTrusted: (id: string) =>
    clientError(
      'PERSISTED_DOCUMENT_NOT_FOUND',
      `No trusted document has the id ${id.slice(0, 80)}: this server runs only the documents of the manifests it loads (TRUSTED_DOCUMENTS). Publish the frontend's manifest with the server, then deploy the frontend.`,
    ),
  textRefused: () =>
    clientError(
      'PERSISTED_DOCUMENT_REQUIRED',
      'This server runs only trusted documents, by id: send documentId (or extensions.persistedQuery.sha256Hash) of a document in its manifests (TRUSTED_DOCUMENTS) instead of the document text. ALLOW_ARBITRARY_DOCUMENTS=true executes any document.',
    ),
  nothing: () =>
    clientError('BAD_USER_INPUT', 'Send a document: documentId, extensions.persistedQuery.sha256Hash or query', {}, { status: 400 }),
};

/** What names a document, over HTTP (yoga's params) or graphql-ws (its subscribe payload). */
type Params = { query?: GraphQLParams['query']; extensions?: Record<string, unknown> | null; documentId?: unknown };

/** The id a request names its document by, if any. */
export function documentIdOf(params: Params): string | undefined {
  if (typeof params.documentId === 'string' && params.documentId) return params.documentId;
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash : undefined;
}

export class TrustedDocuments {
  private constructor(
    private readonly documents: ReadonlyMap<string, string>,
    readonly allowArbitrary: boolean,
  ) {}

  /** Loads and merges the manifests; a file that is missing or not a manifest, or an id given two documents, stops the start. */
  static async load({ manifests, allowArbitrary }: TrustedDocumentsConfig): Promise<TrustedDocuments> {
    if (!allowArbitrary && !manifests.length) {
      throw new ConfigError(
        "TRUSTED_DOCUMENTS is required when NODE_ENV=production: your frontends' persisted-document manifests, the only documents production executes; set ALLOW_ARBITRARY_DOCUMENTS=true to execute any document instead",
      );
    }
    const documents = new Map<string, string>();
    for (const file of manifests) {
      let parsed: z.infer<typeof manifestSchema>;
      try {
        parsed = manifestSchema.parse(JSON.parse(await readFile(file, 'utf8')));
      } catch (error) {
        throw new ConfigError(
          `TRUSTED_DOCUMENTS: ${file} is not a persisted-document manifest (a JSON object of id → document): ${(error as Error).message.split('\n')[0]}`,
        );
      }
      for (const [id, document] of Object.entries(parsed)) {
        if (documents.has(id) && documents.get(id) !== document)
          throw new ConfigError(`TRUSTED_DOCUMENTS: the id ${id} names two different documents (in ${file})`);
        documents.set(id, document);
      }
    }
    return new TrustedDocuments(documents, allowArbitrary);
  }

  get size(): number {
    return this.documents.size;
  }

  /** The document text a request runs, or the refusal. */
  resolve(params: Params): string | GraphQLError {
    const id = documentIdOf(params);
    const listed = id === undefined ? undefined : this.documents.get(id);
    if (listed) return listed;
    if (id !== undefined && !params.query) return this.allowArbitrary ? refusals.notFoundRegistrable() : refusals.notFoundTrusted(id);
    if (!params.query) return refusals.nothing();
    return this.allowArbitrary ? params.query : refusals.textRefused();
  }

  /** yoga's persisted-operations plugin over these manifests, for HTTP and SSE. */
  plugins(): Plugin[] {
    const listedFirst: Plugin = {
      // A listed id wins over text sent beside it: the plugin would otherwise judge the text.
      onParams: ({ request, params, setParams }) => {
        // yoga's GET parser keeps only the standard parameters: documentId is read off the URL.
        const fromUrl = request.method === 'GET' ? new URL(request.url).searchParams.get('documentId') : null;
        const withId: Params = fromUrl && !(params as Params).documentId ? { ...params, documentId: fromUrl } : params;
        const id = documentIdOf(withId);
        const listed = id !== undefined && this.documents.has(id);
        if (withId !== params || (listed && params.query))
          setParams({ ...withId, ...(listed ? { query: undefined } : {}) } as GraphQLParams);
      },
    };
    return [
      listedFirst,
      usePersistedOperations({
        allowArbitraryOperations: this.allowArbitrary,
        extractPersistedOperationId: (params) => documentIdOf(params) ?? null,
        getPersistedOperation: (id) => this.documents.get(id) ?? null,
        customErrors: {
          notFound: (payload) => {
            const id = documentIdOf(payload.params as Params) ?? '';
            return this.allowArbitrary ? refusals.notFoundRegistrable() : refusals.notFoundTrusted(id);
          },
          keyNotFound: refusals.nothing,
          persistedQueryOnly: refusals.textRefused,
        },
      }),
    ];
  }
}
