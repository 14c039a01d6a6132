/**
 * Subscribers woken by the same event read the same run at the same moment; identical reads (same owner,
 * run and selection) share one query while it is in flight. One instance per server.
 */
import type { Database } from '../db/client';
import type { Run } from '../generated/prisma/client';
import type { Owner } from './owner';

export class SharedReads {
  private readonly inFlight = new Map<string, Promise<Run | null>>();

  run(db: Database, owner: Owner, runId: string, query: object): Promise<Run | null> {
    const key = `${owner.userId}|${runId}|${JSON.stringify(query)}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = (db.run.findFirst({ ...query, where: owner.run(runId) }) as Promise<Run | null>).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}
