/**
 * `npm run studio`: Prisma Studio on the database the server uses, offline. The page and its assets come
 * from the local CLI, and nothing in the output shows an attempt to reach Prisma's servers.
 */
import { freePort } from '../../src/tooling/free-port';
import { startScript } from '../helpers/cli';
import { createTestDatabase } from '../helpers/database';

it('serves Studio for DATABASE_URL on --port, with no network calls, and stops on Ctrl-C', async () => {
  const db = await createTestDatabase();
  const port = await freePort();
  // Prisma Studio's own flags pass through.
  const studio = startScript('scripts/studio.ts', ['--port', String(port), '--browser', 'none'], { DATABASE_URL: db.url });
  try {
    await studio.waitFor(new RegExp(`Prisma Studio is running at: http://localhost:${port}`), 60_000);
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="module" src="/studio.js">');
    expect((await fetch(`http://127.0.0.1:${port}/studio.js`)).status).toBe(200);
  } finally {
    expect(await studio.stop('SIGINT')).toBe(0);
    await db.drop();
  }
  expect(studio.output()).not.toMatch(/Failed to fetch|ENOTFOUND|checkpoint|binaries\.prisma\.sh/i);
  expect(studio.output()).toContain('using database from DATABASE_URL');
});
