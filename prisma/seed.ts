// `prisma db seed` and `npm run db:seed` alike: the seed data is src/tooling/seed.ts, the command scripts/seed.ts.
import '../scripts/seed';
