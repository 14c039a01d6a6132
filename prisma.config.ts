// Prisma 7 configuration: where the schema and migrations live and which database the Prisma CLI talks to.
// Migrations here run through `npm run db:*` (scripts/migrate.ts), which use DIRECT_URL, then DATABASE_URL.
import { defineConfig } from '@prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: {
    path: 'prisma/migrations',
    seed: 'tsx prisma/seed.ts',
  },
  datasource: {
    url: process.env.DIRECT_URL ?? process.env.DATABASE_URL,
  },
});
