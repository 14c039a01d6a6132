/**
 * GraphiQL outside production: yoga's bundled page (no CDN), opened on four tabs (watch your runs, start a
 * run, cancel one, your dashboard) and, when this server trusts development tokens, already signed in as the seed user:
 * a fresh token in the headers of every tab, new tabs included. Served compressed: the page is a 9 MB
 * self-contained bundle, about 2 MB with Brotli.
 */
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';
import { SEED_USER, signDevToken } from '../auth/dev-keys';
import type { AppConfig } from '../config';

const WATCH_TAB = `# Live progress of your runs.
# 1. Press ▶ (Execute, or Ctrl-Enter): this subscription waits for your runs to change.
# 2. Open this page in a SECOND browser window (GraphiQL stops a running subscription
#    when you switch tabs), go to its "StartRun" tab and run it. This window then shows
#    the new run move through its five stages, written by the pipeline
#    (\`npm run demo\` runs a simulated one).
subscription WatchMyRuns {
  runsUpdated {
    id
    companyName
    status
    currentStage
    errorMessage
  }
}
`;

const START_TAB = `# Starts a run over a trend report: it is PENDING until the pipeline takes it.
# Watch it with "WatchMyRuns" running in another browser window (start that first:
# switching tabs here would stop it).
mutation StartRun {
  createRun(
    input: {
      companyId: "lactalis-canada"
      companyName: "Lactalis Canada"
      documentName: "trends-2026.pdf"
      documentUrl: "https://example.com/trends-2026.pdf"
    }
  ) {
    id
    status
    createdAt
  }
}
`;

const CANCEL_TAB = `# Stops a run: paste the id StartRun answered with. A PENDING run is CANCELLED at once;
# a RUNNING one too, and the pipeline stops working on it at its next write. "WatchMyRuns"
# shows it CANCELLED; retryRun(id: …) puts it back in the queue.
mutation CancelRun {
  cancelRun(id: "<run id>") {
    id
    status
    currentStage
  }
}
`;

const DASHBOARD_TAB = `query Dashboard {
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

const SIGN_IN_HINT = `# Sign in first: paste your Clerk session token into the Headers tab below:
#   { "Authorization": "Bearer <token>" }
`;

/** How long one signed token is put on the page: it then still has at least 55 of its 60 minutes left. */
const TOKEN_REUSE_MS = 5 * 60_000;

/**
 * GraphiQL's options for each page load. Signed in only with development tokens, which a production server
 * never trusts; the token is reused for a few minutes so the page (and its compressed form) stays the same.
 */
export function graphiqlOptions(config: AppConfig): () => Promise<GraphiQLOptions> {
  let signed: { headers: string; at: number } | undefined;
  const signedInHeaders = async (): Promise<string> => {
    if (!signed || Date.now() - signed.at > TOKEN_REUSE_MS) {
      const token = await signDevToken(config.dataDir, { clerkId: SEED_USER.clerkId, email: SEED_USER.email, name: SEED_USER.name });
      signed = { headers: JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2), at: Date.now() };
    }
    return signed.headers;
  };
  return async () => {
    const headers = config.auth.devTokens ? await signedInHeaders() : undefined;
    const tabs = [WATCH_TAB, START_TAB, CANCEL_TAB, DASHBOARD_TAB].map((query, i) => ({
      query: !headers && i === 0 ? SIGN_IN_HINT + query : query,
      headers,
    }));
    return {
      title: headers ? `opportunity-api (signed in as ${SEED_USER.clerkId})` : 'opportunity-api',
      defaultTabs: tabs,
      ...(headers ? { headers, defaultHeaders: headers } : {}),
      defaultEditorToolsVisibility: headers ? 'headers' : true,
    };
  };
}

/**
 * GraphiQL's page runs inline scripts and styles and Monaco's workers: it replaces the API's policy (which lets an
 * answer load nothing) with one that still forbids framing it.
 */
export const useGraphiQLPagePolicy = (): Plugin => ({
  onResponse({ response }) {
    if (response.headers.get('content-type')?.startsWith('text/html'))
      response.headers.set('content-security-policy', "frame-ancestors 'none'");
  },
});

const brotli = promisify(zlib.brotliCompress);
const gzip = promisify(zlib.gzip);

type Encoding = 'br' | 'gzip';

function preferredEncoding(acceptEncoding: string | null): Encoding | undefined {
  const accepted = (acceptEncoding ?? '').split(',').map((part) => part.split(';')[0]!.trim().toLowerCase());
  if (accepted.includes('br')) return 'br';
  if (accepted.includes('gzip')) return 'gzip';
  return undefined;
}

/**
 * Compresses HTML responses (GraphiQL's page) for clients that accept Brotli or gzip. The latest page is
 * compressed once per encoding and kept, since it changes only with its token; compression runs on libuv's
 * thread pool, never on the event loop.
 */
export function useCompressedPages(): Plugin {
  let latest: { html: string; compressed: Map<Encoding, Promise<Uint8Array<ArrayBuffer>>> } | undefined;
  const compressed = (html: string, encoding: Encoding): Promise<Uint8Array<ArrayBuffer>> => {
    if (latest?.html !== html) latest = { html, compressed: new Map() };
    let body = latest.compressed.get(encoding);
    if (!body) {
      const packed =
        encoding === 'br'
          ? brotli(html, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: html.length } })
          : gzip(html, { level: 6 });
      body = packed.then((buffer) => new Uint8Array(buffer));
      latest.compressed.set(encoding, body);
    }
    return body;
  };
  return {
    async onResponse(payload) {
      const { request, response, fetchAPI } = payload;
      const encoding = preferredEncoding(request.headers.get('accept-encoding'));
      if (!encoding || !response.headers.get('content-type')?.startsWith('text/html')) return;
      const body = await compressed(await response.text(), encoding);
      const headers = new fetchAPI.Headers(response.headers);
      headers.set('content-encoding', encoding);
      headers.set('content-length', String(body.length));
      headers.append('vary', 'accept-encoding');
      payload.setResponse(new fetchAPI.Response(body, { status: response.status, headers }));
    },
  };
}
