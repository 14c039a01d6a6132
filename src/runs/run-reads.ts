/**
 * The reads every list page makes, as SQL through Prisma's `$queryRaw`: how many of the owner's runs match a
 * filter, and a first page of them when the page asks only for run columns and card counts (what list views
 * ask). Why by hand: Prisma's query builder costs more CPU per call than the statement it sends (a page of 20
 * runs: about 235 µs through the client against 140 µs through `$queryRaw`, 78 µs through node-postgres;
 * bench/results/2026-12-03-peer-cpu-statement-cost.md), and these two statements are on every list request.
 * Every other shape (nested lists, later pages) stays with Prisma's client. Each statement keeps the owner's
 * condition in its SQL (src/auth/owner.ts), reads through the same indexes as Prisma's, and returns what
 * Prisma's read returns for the same question (tests/db/run-reads.test.ts compares them on seeded data).
 */
import type { Owner } from '../auth/owner';
import { quotedSchemaOf, type Database } from '../db/client';
import { Prisma, type Run } from '../generated/prisma/client';

/** The filters of a run list. */
export interface RunFilter {
  status?: Run['status'] | null;
  companyId?: string | null;
}

const RUN_COLUMNS = new Set<string>(Object.values(Prisma.RunScalarFieldEnum));

/** A first page as Pothos asks it of Prisma: run columns, perhaps the card count, a page size and no cursor. */
interface FirstPageQuery {
  select: Record<string, true | { select: { opportunityCards: true } }>;
  take: number;
  skip?: 0;
}

/** True when `query` asks for nothing but run columns and the card count, from the first row. */
function isFirstPage(query: object): query is FirstPageQuery {
  const { select, take, skip, ...rest } = query as Partial<Record<string, unknown>>;
  if (Object.keys(rest).length > 0 || (skip !== undefined && skip !== 0)) return false;
  if (typeof take !== 'number' || !Number.isInteger(take) || take <= 0 || typeof select !== 'object' || select === null) return false;
  return Object.entries(select).every(([field, wanted]) =>
    field === '_count' ? isCardCount(wanted) : wanted === true && RUN_COLUMNS.has(field),
  );
}

function isCardCount(wanted: unknown): boolean {
  if (typeof wanted !== 'object' || wanted === null) return false;
  const { select, ...rest } = wanted as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || typeof select !== 'object' || select === null) return false;
  const counted = select as Record<string, unknown>;
  return Object.keys(counted).length === 1 && counted.opportunityCards === true;
}

export class RunReads {
  private readonly runs: Prisma.Sql;
  private readonly cards: Prisma.Sql;
  private readonly status: Prisma.Sql;

  constructor(private readonly db: Database) {
    const schema = quotedSchemaOf(db);
    this.runs = Prisma.raw(`${schema}."Run"`);
    this.cards = Prisma.raw(`${schema}."OpportunityCard"`);
    this.status = Prisma.raw(`${schema}."RunStatus"`);
  }

  /** How many of the owner's runs match the filter (through the user's indexes). */
  async count(owner: Owner, filter: RunFilter): Promise<number> {
    const [row] = await this.db.$queryRaw<[{ count: number }]>`
      SELECT count(*)::int AS count FROM ${this.runs} r WHERE ${this.matching(owner, filter, 'r')}`;
    return row.count;
  }

  /**
   * The owner's first page of runs matching the filter, newest first, as Prisma's `findMany` with `query` would
   * read it; undefined when `query` asks for more than this read answers (then Prisma's client reads it).
   */
  async firstPage(owner: Owner, filter: RunFilter, query: object): Promise<Run[] | undefined> {
    return (await this.firstPageAndTotal(owner, filter, query, false))?.runs;
  }

  /**
   * The same page and how many runs match the filter in all, in one statement (the count is computed once, from
   * the user's index, not per row): a page's total then costs no second statement nor round trip.
   */
  firstPageAndTotal(owner: Owner, filter: RunFilter, query: object, withTotal: true): Promise<{ runs: Run[]; total: number } | undefined>;
  firstPageAndTotal(
    owner: Owner,
    filter: RunFilter,
    query: object,
    withTotal: boolean,
  ): Promise<{ runs: Run[]; total?: number } | undefined>;
  async firstPageAndTotal(
    owner: Owner,
    filter: RunFilter,
    query: object,
    withTotal: boolean,
  ): Promise<{ runs: Run[]; total?: number } | undefined> {
    if (!isFirstPage(query)) return undefined;
    const columns = Object.keys(query.select).filter((field) => field !== '_count');
    const counted = '_count' in query.select;
    const selected = Prisma.join(
      [
        ...columns.map((column) => Prisma.raw(`r."${column}"`)),
        ...(counted ? [Prisma.sql`(SELECT count(*)::int FROM ${this.cards} c WHERE c."runId" = r.id) AS "__cards"`] : []),
        ...(withTotal
          ? [Prisma.sql`(SELECT count(*)::int FROM ${this.runs} t WHERE ${this.matching(owner, filter, 't')}) AS "__total"`]
          : []),
      ],
      ', ',
    );
    const rows = await this.db.$queryRaw<Array<Record<string, unknown>>>`
      SELECT ${selected} FROM ${this.runs} r WHERE ${this.matching(owner, filter, 'r')}
      ORDER BY r."createdAt" DESC, r.id DESC LIMIT ${query.take}`;
    // No row: nothing matches the filter (the page size is at least one), so the total is 0.
    const total = withTotal ? ((rows[0]?.__total as number | undefined) ?? 0) : undefined;
    const runs = rows.map(({ __cards, __total: _total, ...run }) =>
      counted ? ({ ...run, _count: { opportunityCards: __cards } } as unknown as Run) : (run as unknown as Run),
    );
    return { runs, total };
  }

  private matching(owner: Owner, filter: RunFilter, alias: string): Prisma.Sql {
    const column = (name: string) => Prisma.raw(`${alias}."${name}"`);
    return Prisma.join(
      [
        owner.ownsRow(alias),
        ...(filter.status != null ? [Prisma.sql`${column('status')} = ${filter.status}::${this.status}`] : []),
        ...(filter.companyId != null ? [Prisma.sql`${column('companyId')} = ${filter.companyId}`] : []),
      ],
      ' AND ',
    );
  }
}
