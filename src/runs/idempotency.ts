/**
 * createRun's idempotency keys (the Idempotency-Key header, or the idempotencyKey argument): a client that sends
 * a key again, after a lost response or a double click, gets the run that key created instead of a second
 * pipeline job; the same key with another input is refused. Per user and across instances (the table is the
 * shared state), kept for `retentionMs`. A key's row and its run are written in one transaction, and the row's
 * primary key makes a concurrent duplicate wait for the first request to commit, then answer with its run.
 */
import { createHash } from 'node:crypto';
import type { Database } from '../db/client';
import type { Prisma } from '../generated/prisma/client';

/** How a key was used: with which input, and the run it created (null once that run was deleted). */
export interface KeyUse {
  fingerprint: string;
  runId: string | null;
}

/** The same input, however its fields were ordered, has the same fingerprint. */
export function fingerprintOf(input: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(input)
      .sort()
      .map((field) => [field, input[field]]),
  );
  return createHash('sha256').update(canonical).digest('hex');
}

/** Expired keys are deleted at most this often per instance, by whichever createRun comes along. */
const CLEANUP_EVERY_MS = 10 * 60_000;

export class IdempotencyKeys {
  private lastCleanup = 0;

  constructor(
    private readonly db: Database,
    private readonly retentionMs: number,
  ) {}

  /** How this user last used `key`, if within the retention. */
  async earlierUse(userId: string, key: string): Promise<KeyUse | undefined> {
    this.cleanUpNowAndThen();
    const use = await this.db.idempotencyKey.findUnique({
      where: { userId_key: { userId, key } },
      select: { fingerprint: true, runId: true, createdAt: true },
    });
    return use && use.createdAt.getTime() > Date.now() - this.retentionMs ? use : undefined;
  }

  /**
   * In `tx`, takes `key` for a run about to be created: undefined when it is now this request's, else the use
   * of the request that took it first (a concurrent duplicate, which has committed by the time this returns).
   */
  async take(tx: Prisma.TransactionClient, userId: string, key: string, fingerprint: string): Promise<KeyUse | undefined> {
    // A use older than the retention no longer counts: the key starts afresh.
    await tx.idempotencyKey.deleteMany({ where: { userId, key, createdAt: { lt: new Date(Date.now() - this.retentionMs) } } });
    const { count } = await tx.idempotencyKey.createMany({ data: [{ userId, key, fingerprint }], skipDuplicates: true });
    if (count === 1) return undefined;
    return tx.idempotencyKey.findUniqueOrThrow({ where: { userId_key: { userId, key } }, select: { fingerprint: true, runId: true } });
  }

  /** In `tx`, records the run `key` created. */
  async attach(tx: Prisma.TransactionClient, userId: string, key: string, runId: string): Promise<void> {
    await tx.idempotencyKey.update({ where: { userId_key: { userId, key } }, data: { runId } });
  }

  private cleanUpNowAndThen(): void {
    const now = Date.now();
    if (now - this.lastCleanup < CLEANUP_EVERY_MS) return;
    this.lastCleanup = now;
    // Best effort: another instance may be doing the same; a failure only delays the cleanup.
    this.db.idempotencyKey.deleteMany({ where: { createdAt: { lt: new Date(now - this.retentionMs) } } }).catch(() => undefined);
  }
}
