/**
 * The peer of the benchmark: PostGraphile 5 (amber preset, grafserv on node:http), the auto-generated GraphQL
 * server a team would deploy on the same tables instead, serving the benchmark's database with a pool of the
 * same size as the API's. Run as its own process by scripts/bench.ts: `--url`, `--port`.
 *
 * Without `--role` it serves every row to anyone (the user is a condition argument of each query). With
 * `--role ROLE --jwt-key PEM --issuer ISS --azp ORIGIN` it is configured as PostGraphile documents for per-user
 * data: the request's Bearer token is verified first (RS256 with the key imported once, issuer and `azp`
 * checked; anything else is a 401), and its claims reach PostgreSQL as `pgSettings` (`role` and
 * `jwt.claims.sub`), where the row-level-security policies of scripts/bench/row-level-security.ts keep every
 * table to the token's user. PostGraphile then wraps each request in a transaction that sets them.
 */
import http from 'node:http';
import { parseArgs } from 'node:util';
import { importSPKI, jwtVerify, type JWTPayload } from 'jose';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    port: { type: 'string' },
    role: { type: 'string' },
    'jwt-key': { type: 'string' },
    issuer: { type: 'string' },
    azp: { type: 'string' },
  },
});

/** The verified claims of a request, set by the authenticating handler before grafserv sees the request. */
const claimsOf = new WeakMap<http.IncomingMessage, JWTPayload>();

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: values.url, schemas: ['public'], poolConfig: { max: 10 } })],
  grafserv: { graphiql: false, watch: false },
  grafast: {
    explain: false,
    context: (requestContext) => {
      const request = requestContext.node?.req;
      const claims = request && claimsOf.get(request);
      return claims ? { pgSettings: { role: values.role!, 'jwt.claims.sub': claims.sub! } } : {};
    },
  },
});

/** A Bearer token's claims, or undefined when it is missing, badly signed, expired, or for another issuer or party. */
async function verifierFor(pem: string, issuer: string, azp: string) {
  const key = await importSPKI(pem, 'RS256');
  return async (authorization: string | undefined): Promise<JWTPayload | undefined> => {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice('Bearer '.length) : undefined;
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, key, { issuer, algorithms: ['RS256'] });
      return payload.azp === azp && typeof payload.sub === 'string' ? payload : undefined;
    } catch {
      return undefined;
    }
  };
}

async function main(): Promise<void> {
  const serv = pgl.createServ(grafserv);
  // The schema is built (from the database's introspection) before the port opens: the first request is served.
  await serv.ready();
  const handle = serv.createHandler();
  let listener: http.RequestListener = (req, res) => void handle(req, res);
  if (values.role) {
    const verify = await verifierFor(values['jwt-key']!, values.issuer!, values.azp!);
    listener = (req, res) => {
      verify(req.headers.authorization).then(
        (claims) => {
          if (!claims) {
            res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"message":"Unauthorized"}]}');
            return;
          }
          claimsOf.set(req, claims);
          void handle(req, res);
        },
        () => res.writeHead(500).end(),
      );
    };
  }
  http.createServer(listener).listen(Number(values.port), '127.0.0.1', () => process.stdout.write('postgraphile listening\n'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
