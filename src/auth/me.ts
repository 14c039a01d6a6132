/**
 * The signed-in user's own row for `me`, with the counts a header or badge asks for (runs, cards, starred
 * cards), as SQL through Prisma's `$queryRaw` when that is all the query asks; anything else (`me { runs … }`)
 * through Prisma's client. Why by hand: for a count, Prisma's query builder costs more CPU than the statement
 * it sends (bench/results/2026-12-03-peer-cpu-statement-cost.md: 192 µs through the client against 93 µs
 * through `$queryRaw` for the starred count), and `me` is asked on every page. tests/db/me.test.ts compares it
 * with Prisma's read on seeded data.
 */
import { quotedSchemaOf, type Database } from '../db/client';
import { Prisma, type User } from '../generated/prisma/client';
import type { Owner } from './owner';

const USER_COLUMNS = new Set<string>(Object.values(Prisma.UserScalarFieldEnum));

/** A count Pothos asks of Prisma for `me`: all the user's runs or cards, or their cards starred (or not). */
type CountQuery = true | { where: { starred: boolean } };

interface MeQuery {
  select: Record<string, true | { select: { runs?: true; opportunityCards?: CountQuery } }>;
}

function isCount(relation: string, wanted: unknown): boolean {
  if (wanted === true) return relation === 'runs' || relation === 'opportunityCards';
  if (relation !== 'opportunityCards' || typeof wanted !== 'object' || wanted === null) return false;
  const { where, ...rest } = wanted as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof where !== 'object' || where === null) return false;
  const filter = where as Record<string, unknown>;
  return Object.keys(filter).length === 1 && typeof filter.starred === 'boolean';
}

/** True when `query` asks for nothing but the user's columns and the counts above. */
function isMeQuery(query: object): query is MeQuery {
  const { select, ...rest } = query as Partial<Record<string, unknown>>;
  if (Object.keys(rest).length > 0 || typeof select !== 'object' || select === null) return false;
  return Object.entries(select).every(([field, wanted]) => {
    if (field !== '_count') return wanted === true && USER_COLUMNS.has(field);
    if (typeof wanted !== 'object' || wanted === null) return false;
    const { select: counts, ...more } = wanted as Record<string, unknown>;
    if (Object.keys(more).length > 0 || typeof counts !== 'object' || counts === null) return false;
    return Object.entries(counts).every(([relation, count]) => isCount(relation, count));
  });
}

/** The signed-in user's row as Prisma's `findUniqueOrThrow` with `query` returns it. */
export async function readMe(db: Database, owner: Owner, query: object): Promise<User> {
  const prismaRead = (): Promise<User> => db.user.findUniqueOrThrow({ ...query, where: { id: owner.userId } });
  if (!isMeQuery(query)) return prismaRead();
  const schema = quotedSchemaOf(db);
  const columns = Object.keys(query.select).filter((field) => field !== '_count');
  const counted = query.select._count;
  const counts = Object.entries(typeof counted === 'object' ? counted.select : {});
  const selected = Prisma.join(
    [
      ...columns.map((column) => Prisma.raw(`u."${column}"`)),
      ...counts.map(([relation, count]) => {
        const table = Prisma.raw(`${schema}."${relation === 'runs' ? 'Run' : 'OpportunityCard'}"`);
        const starred = count === true ? Prisma.empty : Prisma.sql` AND x.starred = ${count.where.starred}`;
        return Prisma.sql`(SELECT count(*)::int FROM ${table} x WHERE ${owner.ownsRow('x')}${starred}) AS ${Prisma.raw(`"__count_${relation}"`)}`;
      }),
    ],
    ', ',
  );
  const [row] = await db.$queryRaw<Array<Record<string, unknown>>>`
    SELECT ${selected} FROM ${Prisma.raw(`${schema}."User"`)} u WHERE ${owner.isUser('u')}`;
  // Gone meanwhile (deleted by a webhook): Prisma's own read raises its not-found error.
  if (!row) return prismaRead();
  if (counts.length === 0) return row as User;
  const me: Record<string, unknown> = { _count: {} };
  for (const [field, value] of Object.entries(row)) {
    if (field.startsWith('__count_')) (me._count as Record<string, unknown>)[field.slice('__count_'.length)] = value;
    else me[field] = value;
  }
  return me as User;
}
