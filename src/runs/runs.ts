/**
 * The runs domain: a user's runs, read (one, a filtered page, a count) and acted on: start one (its input
 * checked, once per idempotency key), cancel it, retry it, delete it, with the rules that keep the pipeline's
 * work and the user's intent in step. Every statement is scoped to the user's own runs (src/auth/owner.ts); each
 * write takes the Run row's lock before the lease's, as the pipeline's workers do, so a worker finds out at its
 * next write that its run was cancelled, deleted or retried. Refusals are client errors (src/errors.ts). The
 * GraphQL fields (src/schema/run.ts) are thin over this.
 */
import type { GraphQLError } from 'graphql';
import type { Owner } from '../auth/owner';
import type { Database } from '../db/client';
import type { UserQuotas } from '../db/rate-limits';
import type { Prisma, Run } from '../generated/prisma/client';
import { RunStatus } from '../generated/prisma/enums';
import type { DocumentUrlChecker } from './document-url';
import { fingerprintOf, IdempotencyKeys, type KeyUse } from './idempotency';
import { checkNewRun, type NewRun } from './new-run';
import { clientError, conflict, notFound } from '../errors';
import { RunReads, type RunFilter } from './run-reads';
import { CANCELLABLE_STATUSES, RETRYABLE_STATUSES } from './statuses';

/** What Pothos selects for the runs it asks for. */
export type RunQuery = object;

export type { RunFilter } from './run-reads';

/** Newest first; the id breaks ties so pages never overlap or skip. */
export const NEWEST_FIRST: Prisma.RunOrderByWithRelationInput[] = [{ createdAt: 'desc' }, { id: 'desc' }];

export interface RunsSettings {
  /** How many times one run may be retried (RUN_MAX_RETRIES). */
  maxRetriesPerRun: number;
  /** How long an idempotency key is remembered (IDEMPOTENCY_KEY_HOURS). */
  idempotencyKeyMs: number;
}

/** Rolls a retry back when the run's retries would exceed the limit. */
class RetriesExhausted extends Error {}

export class Runs {
  private readonly keys: IdempotencyKeys;
  private readonly reads: RunReads;

  constructor(
    private readonly db: Database,
    private readonly quotas: UserQuotas,
    private readonly documentUrls: DocumentUrlChecker,
    private readonly settings: RunsSettings,
  ) {
    this.keys = new IdempotencyKeys(db, settings.idempotencyKeyMs);
    this.reads = new RunReads(db);
  }

  /** One of the owner's runs, or null. */
  find(owner: Owner, id: string, query: RunQuery): Promise<Run | null> {
    return this.db.run.findFirst({ ...query, where: owner.run(id) });
  }

  /**
   * A page of the owner's runs, newest first (Pothos' `query` holds the page's bounds and selection): a first
   * page of run columns and card counts by SQL (src/runs/run-reads.ts), any other through Prisma's client.
   */
  async list(owner: Owner, filter: RunFilter, query: RunQuery): Promise<Run[]> {
    return (
      (await this.reads.firstPage(owner, filter, query)) ??
      this.db.run.findMany({ ...query, where: this.filtered(owner, filter), orderBy: NEWEST_FIRST })
    );
  }

  /** How many of the owner's runs match the filter. */
  count(owner: Owner, filter: RunFilter): Promise<number> {
    return this.reads.count(owner, filter);
  }

  /**
   * A page (as `list`) and how many runs match the filter in all, both started at once: one statement for a
   * first page of run columns and card counts, else Prisma's page and a count side by side.
   */
  listWithTotal(owner: Owner, filter: RunFilter, query: RunQuery): { runs: Promise<Run[]>; total: Promise<number> } {
    const both = this.reads.firstPageAndTotal(owner, filter, query, true);
    const total = both.then((read) => read?.total ?? this.count(owner, filter));
    const runs = both.then(
      (read) => read?.runs ?? this.db.run.findMany({ ...query, where: this.filtered(owner, filter), orderBy: NEWEST_FIRST }),
    );
    return { runs, total };
  }

  /**
   * A new PENDING run from `input` (checked first: a refusal names the field), spending a permit of createRun's
   * limits. With an idempotency key already used for the same input, the run that use created instead (no
   * permit spent, no second job).
   */
  async create(owner: Owner, raw: NewRun, query: RunQuery, idempotencyKey?: string): Promise<Run> {
    const input = await checkNewRun(raw, this.documentUrls);
    const data = { ...input, userId: owner.userId };
    if (idempotencyKey === undefined) {
      await this.quotas.createRun(owner.userId);
      const run: unknown = await this.db.run.create({ ...query, data });
      return run as Run;
    }
    const fingerprint = fingerprintOf({ ...input });
    const earlier = await this.keys.earlierUse(owner.userId, idempotencyKey);
    if (earlier) return this.replay(owner, idempotencyKey, fingerprint, earlier, query);
    await this.quotas.createRun(owner.userId);
    const created = await this.db.$transaction(async (tx) => {
      const taken = await this.keys.take(tx, owner.userId, idempotencyKey, fingerprint);
      if (taken) return taken;
      const { id } = await tx.run.create({ data, select: { id: true } });
      await this.keys.attach(tx, owner.userId, idempotencyKey, id);
      return id;
    });
    if (typeof created !== 'string') return this.replay(owner, idempotencyKey, fingerprint, created, query);
    return this.read(owner, created, query);
  }

  /**
   * Stops a PENDING or RUNNING run: CANCELLED at once, its lease gone, so its worker stops at its next write.
   * Cancelling a cancelled run answers with it as it is; a finished run cannot be cancelled.
   */
  async cancel(owner: Owner, id: string, query: RunQuery): Promise<Run> {
    const cancelled = await this.db.$transaction(async (tx) => {
      const { count } = await tx.run.updateMany({
        where: owner.runs({ id, status: { in: [...CANCELLABLE_STATUSES] } }),
        data: { status: RunStatus.CANCELLED },
      });
      if (count === 1) await tx.runLease.deleteMany({ where: { runId: id } });
      return count === 1;
    });
    if (!cancelled) {
      const { status } = await this.statusOf(owner, id);
      if (status !== RunStatus.CANCELLED) {
        throw conflict(`Only a PENDING or RUNNING run can be cancelled; this run is ${status}`, { status });
      }
    }
    return this.read(owner, id, query);
  }

  /**
   * Puts a FAILED or CANCELLED run back in the queue: PENDING at stage 0, error cleared, the partial outputs of
   * the last attempt removed, its lease (and count of claims) gone. Bounded per run (RUN_MAX_RETRIES), and each
   * retry spends createRun's limits: it is a new pipeline job.
   */
  async retry(owner: Owner, id: string, query: RunQuery): Promise<Run> {
    // Refused for what the run is before a permit is spent; the transaction below decides again, atomically.
    const refused = await this.retryRefusal(owner, id);
    if (refused) throw refused;
    await this.quotas.createRun(owner.userId);
    let retried: boolean;
    try {
      retried = await this.db.$transaction(async (tx) => {
        // The status condition makes the claim atomic (it locks the run): two retries cannot both succeed.
        const { count } = await tx.run.updateMany({
          where: owner.runs({ id, status: { in: [...RETRYABLE_STATUSES] } }),
          data: { status: RunStatus.PENDING, currentStage: 0, errorMessage: null, completedAt: null },
        });
        if (count === 0) return false;
        const retries = await tx.runRetries.upsert({
          where: { runId: id },
          create: { runId: id, count: 1 },
          update: { count: { increment: 1 }, lastRetriedAt: new Date() },
          select: { count: true },
        });
        if (retries.count > this.settings.maxRetriesPerRun) throw new RetriesExhausted(); // rolls the claim back
        await tx.runLease.deleteMany({ where: { runId: id } });
        await tx.stageOutput.deleteMany({ where: { runId: id } });
        await tx.inspirationReport.deleteMany({ where: { runId: id } });
        await tx.opportunityCard.deleteMany({ where: { runId: id } });
        return true;
      });
    } catch (error) {
      if (error instanceof RetriesExhausted) throw this.retriesExhausted();
      throw error;
    }
    if (!retried) throw (await this.retryRefusal(owner, id)) ?? conflict('This run changed while it was being retried; try again');
    return this.read(owner, id, query);
  }

  /**
   * Deletes a run with everything it produced, whatever its status: a PENDING or RUNNING one is cancelled by
   * its deletion (its lease goes with it, and its worker stops at its next write). Returns false when the user
   * has no such run.
   */
  async delete(owner: Owner, id: string): Promise<boolean> {
    const { count } = await this.db.run.deleteMany({ where: owner.run(id) });
    return count === 1;
  }

  /** The filters of a run list, inside the owner's runs. */
  private filtered(owner: Owner, filter: RunFilter): Prisma.RunWhereInput {
    return owner.runs({
      ...(filter.status != null ? { status: filter.status } : {}),
      ...(filter.companyId != null ? { companyId: filter.companyId } : {}),
    });
  }

  private async replay(owner: Owner, key: string, fingerprint: string, earlier: KeyUse, query: RunQuery): Promise<Run> {
    if (earlier.fingerprint !== fingerprint) {
      throw conflict(
        `This idempotency key was already used for a createRun with a different input: use a new key for a new run (key "${key}")`,
        { idempotencyKey: key },
      );
    }
    if (earlier.runId === null) {
      throw clientError('NOT_FOUND', `The run this idempotency key created has since been deleted (key "${key}")`, {
        idempotencyKey: key,
      });
    }
    return this.read(owner, earlier.runId, query);
  }

  private async read(owner: Owner, id: string, query: RunQuery): Promise<Run> {
    const run: unknown = await this.db.run.findFirst({ ...query, where: owner.run(id) });
    if (!run) throw notFound('Run'); // deleted meanwhile
    return run as Run;
  }

  private async statusOf(owner: Owner, id: string): Promise<{ status: RunStatus; retries: number }> {
    const run = await this.db.run.findFirst({ where: owner.run(id), select: { status: true, retries: { select: { count: true } } } });
    if (!run) throw notFound('Run');
    return { status: run.status, retries: run.retries?.count ?? 0 };
  }

  private async retryRefusal(owner: Owner, id: string): Promise<GraphQLError | undefined> {
    const { status, retries } = await this.statusOf(owner, id);
    if (!RETRYABLE_STATUSES.includes(status)) {
      return conflict(`Only a FAILED or CANCELLED run can be retried; this run is ${status}`, { status });
    }
    return retries >= this.settings.maxRetriesPerRun ? this.retriesExhausted() : undefined;
  }

  /** A run's retries are bounded: each is a pipeline job, and a run that keeps failing will not pass by repetition. */
  private retriesExhausted(): GraphQLError {
    const max = this.settings.maxRetriesPerRun;
    return conflict(`This run has been retried ${max} times, the most allowed (RUN_MAX_RETRIES): start a new run with createRun instead`, {
      limit: 'retriesPerRun',
      max,
    });
  }
}
