/**
 * examples/web in Chromium, as a frontend team ships it: built by Vite, served on another site than the API
 * (a preview deployment's host, matched by a CORS_ORIGINS pattern), against a production server that runs only
 * the page's trusted documents. The page is instrumented (every request carries `traceparent` and `x-request-id`)
 * and signs in with a Bearer token. It lists the user's runs, starts one, follows it through the five stages the
 * pipeline writes (live, over graphql-sse's single connection and over graphql-ws), stars a card and cancels a
 * run; the test checks the DOM and the database. A page on an origin not listed gets nothing, and the server's
 * log names CORS_ORIGINS; in development a localhost page needs no configuration.
 */
import type { Browser, Page, Request } from 'playwright-core';
import { createRun, createUser } from '../helpers/fixtures';
import { startApi, startProductionServer, type ApiFixture } from '../helpers/api';
import { CHROMIUM_PATH, NO_CHROMIUM, launchChromium } from '../helpers/browser';
import { captureLogs } from '../helpers/logs';
import type { TestServer } from '../helpers/server';
import { TEST_APP_ORIGIN } from '../helpers/tokens';
import { serveWebExample, type ServedPage } from '../helpers/web-example';

const logs = captureLogs();
const withChromium = CHROMIUM_PATH ? describe : describe.skip;
if (!CHROMIUM_PATH) {
  console.warn(`browser tests skipped: ${NO_CHROMIUM}`);
  it.skip(`browser tests: ${NO_CHROMIUM}`, () => undefined);
}

let api: ApiFixture;
let production: TestServer;
let page: ServedPage;
let browser: Browser;
let previewOrigin: string;

withChromium('examples/web in Chromium', () => {
  beforeAll(async () => {
    page = await serveWebExample();
    previewOrigin = `http://pr-7.preview.test:${page.port}`;
    api = await startApi();
    production = await startProductionServer(api, 'examples/web/generated/persisted-documents.json', {
      CLERK_AUTHORIZED_PARTIES: previewOrigin,
      CORS_ORIGINS: `http://*.preview.test:${page.port}`,
    });
    browser = await launchChromium({
      hostsToLoopback: ['*.preview.test', 'unlisted.test'],
      secureOrigins: [previewOrigin, `http://unlisted.test:${page.port}`],
    });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await production?.close();
    await api?.close();
    await page?.close();
  });

  /** The page at `origin`, signed in as `clerkId` (a session of the app at `azp`), its requests to the API recorded. */
  async function open(origin: string, apiUrl: string, clerkId: string, transport: 'sse' | 'ws', azp = origin) {
    const token = await api.signer.sign({ sub: clerkId, azp, expiresIn: 3600 });
    const context = await browser.newContext();
    const tab = await context.newPage();
    const toApi: Request[] = [];
    const failed: string[] = [];
    tab.on('request', (request) => {
      if (request.url().startsWith(apiUrl)) toApi.push(request);
    });
    tab.on('requestfailed', (request) => {
      void request.response().then((response) => {
        // graphql-sse's client aborts an operation's request when the operation ends, though its answer (a 202
        // with an empty body) arrived long before: Chromium reports that as failed. A request never answered, or
        // answered with an error, counts.
        if (response?.ok()) return;
        failed.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
      });
    });
    const hash = new URLSearchParams({ token, api: `${apiUrl}/graphql`, transport });
    await tab.goto(`${origin}/#${hash.toString()}`);
    return { tab, toApi, failed, close: () => context.close() };
  }

  const runItem = (tab: Page, id: string) => tab.locator(`#runs li[data-run-id="${id}"]`);

  /** What the pipeline does: plain SQL on its own connection. */
  const pipeline = (runId: string, status: string, stage: number) =>
    api.db.sql.query(`UPDATE "Run" SET status = $2::"RunStatus", "currentStage" = $3, "updatedAt" = now() WHERE id = $1`, [
      runId,
      status,
      stage,
    ]);

  /** Stage 5's outputs: five cards and COMPLETED, in one transaction. */
  async function complete(runId: string, userId: string) {
    const client = await api.db.sql.connect();
    try {
      await client.query('BEGIN');
      for (let number = 1; number <= 5; number++) {
        await client.query(
          `INSERT INTO "OpportunityCard" (id, "runId", "userId", number, title, tagline, problem, solution, why_now, target_segment, quick_win, "updatedAt")
           VALUES (gen_random_uuid(), $1, $2, $3, $4, 't', 'p', 's', 'w', 'seg', 'q', now())`,
          [runId, userId, number, `Opportunity ${number}`],
        );
      }
      await client.query(`UPDATE "Run" SET status = 'COMPLETED', "completedAt" = now(), "updatedAt" = now() WHERE id = $1`, [runId]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  it.each(['sse', 'ws'] as const)(
    'over %s: lists runs, starts one, follows its stages live, stars a card, cancels a run; every request instrumented',
    async (transport) => {
      const clerkId = `user_web_${transport}`;
      const { id: userId } = await createUser(api.db.prisma, { clerkId });
      const waiting = await createRun(api.db.prisma, userId, { companyName: 'Waiting Co' });
      const { tab, toApi, failed, close } = await open(previewOrigin, production.url, clerkId, transport);
      try {
        await runItem(tab, waiting.id).waitFor(); // the first page of runs
        await expect(runItem(tab, waiting.id).getAttribute('data-status')).resolves.toBe('PENDING');

        await tab.click('#start');
        await tab.locator('#followed-status', { hasText: 'PENDING 0' }).waitFor();
        const runId = (await tab.textContent('#followed-id'))!;
        await runItem(tab, runId).waitFor();
        const row = await api.db.prisma.run.findUniqueOrThrow({ where: { id: runId } });
        expect(row).toMatchObject({ userId, companyName: 'Lactalis Canada', status: 'PENDING' });

        for (let stage = 1; stage <= 5; stage++) {
          await pipeline(runId, 'RUNNING', stage);
          await tab.locator('#followed-status', { hasText: `RUNNING ${stage}` }).waitFor();
          await tab.locator(`#runs li[data-run-id="${runId}"][data-stage="${stage}"]`).waitFor();
        }
        await complete(runId, userId);
        await tab.locator('#followed-status', { hasText: 'COMPLETED 5' }).waitFor();
        await expect(tab.locator('#cards li').count()).resolves.toBe(5);
        // Each state once, in order: nothing sent twice.
        expect(await tab.locator('#timeline li').allTextContents()).toEqual([
          'PENDING 0',
          'RUNNING 1',
          'RUNNING 2',
          'RUNNING 3',
          'RUNNING 4',
          'RUNNING 5',
          'COMPLETED 5',
        ]);

        await tab.locator('#cards li', { hasText: 'Opportunity 2' }).locator('button').click();
        await tab.locator('#cards li[data-starred="true"]', { hasText: 'Opportunity 2' }).waitFor();
        const starred = await api.db.prisma.opportunityCard.findMany({ where: { runId, starred: true }, select: { number: true } });
        expect(starred).toEqual([{ number: 2 }]);

        await runItem(tab, waiting.id).locator('button[data-action="cancel"]').click();
        await tab.locator(`#runs li[data-run-id="${waiting.id}"][data-status="CANCELLED"]`).waitFor();
        expect((await api.db.prisma.run.findUniqueOrThrow({ where: { id: waiting.id } })).status).toBe('CANCELLED');

        // The page read the request id of its last answer (exposed by CORS): the id it sent, echoed.
        expect(await tab.textContent('#request-id')).toMatch(/^web-[0-9a-f-]{36}$/);
        expect(await tab.textContent('#error')).toBe('');
        expect(failed).toEqual([]);
        const calls = toApi.filter((request) => request.method() !== 'OPTIONS' && !request.url().startsWith('ws'));
        expect(calls.length).toBeGreaterThan(0);
        for (const request of calls) {
          const headers = await request.allHeaders();
          expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
          expect(headers['x-request-id']).toMatch(/^web-/);
          expect(headers.authorization).toMatch(/^Bearer /);
          expect(headers.cookie).toBeUndefined();
        }
        if (transport === 'sse') {
          // Every subscription (the list's, and each run followed) on one event stream.
          const streams = calls.filter((request) => request.method() === 'GET' && new URL(request.url()).pathname === '/graphql/stream');
          expect(streams).toHaveLength(1);
        }
      } finally {
        await close();
      }
    },
    60_000,
  );

  it('a page on an origin CORS_ORIGINS does not list gets nothing, and the log says which variable to set', async () => {
    const origin = `http://unlisted.test:${page.port}`;
    const { tab, close } = await open(origin, production.url, 'user_web_unlisted', 'sse');
    try {
      await tab.locator('#error', { hasText: /fetch/i }).waitFor();
      expect(await api.db.prisma.user.count({ where: { clerkId: 'user_web_unlisted' } })).toBe(0);
      expect(logs.filter((line) => line.origin === origin).map((line) => line.msg)).toEqual([
        expect.stringContaining('CORS_ORIGINS') as string,
      ]);
    } finally {
      await close();
    }
  });

  it.each(['sse', 'ws'] as const)(
    'in development a page on localhost works without any CORS configuration (over %s), its documents sent as text once',
    async (transport) => {
      const origin = `http://localhost:${page.port}`;
      const { tab, close } = await open(origin, api.server.url, `user_web_localhost_${transport}`, transport, TEST_APP_ORIGIN);
      try {
        // The development server has no manifest: each id is answered PersistedQueryNotFound, and the page sends the text.
        await tab.click('#start');
        await tab.locator('#followed-status', { hasText: 'PENDING 0' }).waitFor();
        const runId = (await tab.textContent('#followed-id'))!;
        await pipeline(runId, 'RUNNING', 1);
        await tab.locator('#followed-status', { hasText: 'RUNNING 1' }).waitFor();
        await tab.locator(`#runs li[data-run-id="${runId}"][data-stage="1"]`).waitFor();
        expect(await tab.locator('#timeline li').allTextContents()).toEqual(['PENDING 0', 'RUNNING 1']);
        expect(await tab.textContent('#error')).toBe('');
      } finally {
        await close();
      }
    },
    60_000,
  );
});
