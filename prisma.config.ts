// Prisma 7 configuration: where the schema and migrations live and which database the Prisma CLI talks to:
// the server's own (DIRECT_URL, then DATABASE_URL, from the environment or .env, else the embedded PostgreSQL
// of DATA_DIR, which `npm start` runs), so `npx prisma studio` opens what the server serves. This project's
// migrations run through `npm run db:*` (scripts/migrate.ts), which needs no native engine download.
import { defineConfig } from '@prisma/config';
import { loadConfig, loadDotEnv, type AppConfig } from './src/config';
import { embeddedDatabaseUrl } from './src/tooling/embedded-state';

loadDotEnv();
// `prisma generate` (npm ci's postinstall) needs no database: a build whose environment the server would
// refuse (NODE_ENV=production without DATABASE_URL, say) still generates. The reason is still printed, so a
// command that needs the database (studio) says why it has none.
let config: AppConfig | undefined;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`prisma.config.ts: no database for Prisma's commands: ${(error as Error).message}\n`);
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'tsx prisma/seed.ts',
  },
  datasource: {
    url: config && (config.directUrl ?? config.databaseUrl ?? embeddedDatabaseUrl(config.dataDir)),
  },
});
