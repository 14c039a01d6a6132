/**
 * Queries and mutations sent the common way — POST with a JSON body, or GET, answered as JSON, from a server or
 * from a browser page on an origin the CORS policy allows (src/server/cors.ts) — run straight through yoga's envelope, as graphql-ws operations do (src/server/operation.ts), instead of
 * through yoga's Fetch-API adapter. That adapter wraps every node request and response in Fetch API objects and
 * chains its request hooks around them; for a small query it was three quarters of the server's CPU
 * (bench/results/2026-12-03-request-phases.md). What answers is still yoga's: its envelope (caches, limits,
 * masking, metrics, tracing, refusing a mutation over GET) and its result processor (status codes, headers,
 * the JSON written).
 *
 * Everything else goes to yoga's own handler, which stays the one judge of the protocol's corner cases: SSE and
 * multipart, other content types, preflights, requests from an origin the policy does not allow, a GET without
 * the CSRF header or credentials, subscriptions, and any request whose parameters are not plainly well-formed. Those last two are
 * known only once the request is signed in and read: they go as a Fetch Request with the body read, carrying
 * the session, so admission runs once.
 */
import type http from 'node:http';
import { OperationTypeNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { processRegularResult, type GraphQLParams } from 'graphql-yoga';
import { credentialsFrom } from '../auth/authenticate';
import type { Session } from '../auth/authenticate';
import { inSpan } from '../spans';
import { refusalOf, type Admission } from './admission';
import { CSRF_HEADER, type CorsPolicy } from './cors';
import { GRAPHQL_PATH, PRIVATE_ANSWER_HEADERS, type GraphQLServer } from './graphql';
import { prepareOperation } from './operation';
import type { TrustedDocuments } from './trusted-documents';

type ResultType = 'application/json' | 'application/graphql-response+json';

const RESULT_TYPES: readonly ResultType[] = ['application/graphql-response+json', 'application/json'];

const matches = (type: string, requested: string) => {
  const [pre, suf] = requested.split('/');
  const [typePre, typeSuf] = type.split('/');
  return (pre === '*' || pre === typePre) && (suf === '*' || suf === typeSuf);
};

/**
 * The JSON type yoga's result processor answers a query or mutation with: the first acceptable one the client
 * lists (types with a charset other than utf-8 do not count), as for any type when it lists none. Undefined when
 * it accepts no JSON: yoga's handler answers (a stream, or 406).
 */
export function resultTypeFor(accept: string | undefined): ResultType | undefined {
  for (const part of (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',')) {
    const [requested = '', ...parameters] = part.split(';');
    const charset = parameters.find((parameter) => parameter.includes('charset='));
    if (charset && charset !== 'charset=utf-8') continue;
    const type = RESULT_TYPES.findLast((candidate) => matches(candidate, requested));
    if (type) return type;
  }
  return undefined;
}

/**
 * The JSON type a request is answered with on this path, from its method and headers alone (before its body is
 * read); undefined for the requests yoga's handler answers. Which origins may come this way is the CORS policy's
 * to say (`takes` below).
 */
export function plainResultType(method: string | undefined, headers: http.IncomingHttpHeaders): ResultType | undefined {
  if (method === 'POST') {
    const [type, ...parameters] = (headers['content-type'] ?? '').replace(/\s/g, '').toLowerCase().split(';');
    if (type !== 'application/json' || parameters.some((parameter) => parameter.startsWith('charset=') && parameter !== 'charset=utf-8'))
      return undefined;
  } else if (method === 'GET') {
    // A GET needs no preflight: only with credentials or the CSRF header (yoga refuses the others).
    if (headers.authorization === undefined && headers[CSRF_HEADER] === undefined) return undefined;
  } else return undefined;
  return resultTypeFor(headers.accept);
}

const PARAM_NAMES = new Set(['query', 'variables', 'operationName', 'extensions', 'documentId']);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The parameters when they are plainly well-formed (only known names, each of its type); undefined for anything
 * else, which yoga's handler answers with its own messages.
 */
export function plainParams(value: unknown): GraphQLParams | undefined {
  if (!isObject(value)) return undefined;
  for (const name in value) if (!PARAM_NAMES.has(name)) return undefined;
  const { query, variables, operationName, extensions, documentId } = value;
  if (query != null && typeof query !== 'string') return undefined;
  if (variables != null && !isObject(variables)) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  if (extensions != null && !isObject(extensions)) return undefined;
  if (documentId != null && typeof documentId !== 'string') return undefined;
  return value as GraphQLParams;
}

function paramsFromUrl(url: string): GraphQLParams | undefined {
  const search = new URLSearchParams(url.slice(url.indexOf('?') + 1 || url.length));
  const params: Record<string, unknown> = {};
  try {
    for (const [name, value] of search) {
      if (name in params) return undefined; // a repeated parameter: yoga decides
      params[name] = name === 'variables' || name === 'extensions' ? JSON.parse(value) : value;
    }
  } catch {
    return undefined;
  }
  return plainParams(params);
}

/**
 * The whole body as text. node:stream/consumers' text() reads through an async iterator (a promise per chunk);
 * a GraphQL request is one chunk or a few, and its length was checked before (src/server/routes.ts).
 */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('the client closed the connection before sending the whole body'));
    });
  });
}

function paramsFromBody(body: string): GraphQLParams | undefined {
  try {
    return plainParams(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/**
 * yoga's result processor, given a Response constructor that only records what it is given: the status,
 * headers and body yoga would send, without building a Fetch Response to take them apart again.
 */
class RecordedResponse {
  constructor(
    readonly body: string,
    readonly init: { status: number; headers: Record<string, string> },
  ) {}
}
const recordingFetchAPI = { Response: RecordedResponse } as unknown as Parameters<typeof processRegularResult>[1];

/** One answer of this path: its content type, the CORS policy's headers for its origin. */
interface Answering {
  type: ResultType;
  cors: Record<string, string> | undefined;
}

/** Every answer of this path: with its origin's CORS headers, private (as yoga's plugins make its answers), with its length. */
function writeAnswer(res: http.ServerResponse, answering: Answering, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, ...answering.cors, ...PRIVATE_ANSWER_HEADERS, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendResult(res: http.ServerResponse, answering: Answering, result: ExecutionResult): void {
  const { body, init } = processRegularResult(result, recordingFetchAPI, answering.type) as unknown as RecordedResponse;
  writeAnswer(res, answering, init.status, init.headers, body);
}

export interface PlainHttpOptions {
  graphql: GraphQLServer;
  admission: Admission;
  trustedDocuments: TrustedDocuments;
  /** The masking yoga applies (src/server/graphql.ts), for errors raised outside execution. */
  maskError: (error: unknown) => GraphQLError;
  /** The CORS policy yoga's handler applies too. */
  cors: CorsPolicy;
}

/** Serves one GraphQL request over HTTP (at /graphql or /graphql/stream), whichever door answers it. */
export type GraphQLOverHttp = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => void;

/** /graphql over HTTP: the plain door for the requests it takes, yoga's own handler for every other. */
export function createGraphQLOverHttp({ graphql, admission, trustedDocuments, maskError, cors }: PlainHttpOptions): GraphQLOverHttp {
  /** yoga's own handler for a request already signed in and read; yoga's admission sees the session and lets it be. */
  const handOver = async (req: http.IncomingMessage, res: http.ServerResponse, body: string | undefined, session: Session) => {
    // The path and query as src/server/routes.ts routed them (the Host header is not trusted to form a URL).
    const request = new graphql.fetchAPI.Request(new URL(req.url ?? '/', 'http://localhost'), {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body,
    });
    const response = await graphql.handleRequest(request, { req, res, session });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  };

  const run = async (req: http.IncomingMessage, res: http.ServerResponse, answering: Answering) => {
    // Signed in from the headers alone: a request refused here has its body discarded unread.
    let outcome: Session | GraphQLError;
    try {
      outcome = await inSpan('graphql.admission', {}, () => admission.signIn(admission.addressOf(req), credentialsFrom(req.headers)));
    } catch (error) {
      return sendResult(res, answering, { errors: [maskError(error)] });
    }
    if (!('user' in outcome)) {
      const { status, headers, body } = refusalOf(outcome);
      return writeAnswer(res, answering, status, headers, body);
    }
    const body = req.method === 'POST' ? await readBody(req) : undefined;
    const params = body === undefined ? paramsFromUrl(req.url ?? '') : paramsFromBody(body);
    if (!params) return handOver(req, res, body, outcome);
    const initial = { req, params, session: outcome, request: { method: req.method ?? 'GET' } };
    const prepared = await prepareOperation(graphql, trustedDocuments, params, initial);
    if (!('args' in prepared)) return sendResult(res, answering, { errors: prepared.map(maskError) });
    if (prepared.type === OperationTypeNode.SUBSCRIPTION) return handOver(req, res, body, outcome);
    sendResult(res, answering, (await prepared.execute(prepared.args)) as ExecutionResult);
  };

  /** How the plain door answers the request (its JSON type and CORS headers); undefined when yoga's handler does. */
  const takes = (req: http.IncomingMessage): Answering | undefined => {
    const type = plainResultType(req.method, req.headers);
    if (!type || !cors.allows(req.headers.origin)) return undefined;
    return { type, cors: cors.headersFor(req.headers.origin) };
  };

  return (req, res, path) => {
    // /graphql/stream is graphql-sse's protocol (src/server/sse.ts): yoga's handler answers it.
    const answering = path === GRAPHQL_PATH ? takes(req) : undefined;
    if (!answering) return void graphql(req, res);
    run(req, res, answering).catch((error: unknown) => {
      if (res.headersSent) return void res.destroy();
      sendResult(res, answering, { errors: [maskError(error)] });
    });
  };
}
