/**
 * Who is watching which run on this instance: `runUpdated` subscribers watch one run, `runsUpdated` subscribers
 * every run of their user. Each run event from the listener (src/db/events.ts) reaches only the watchers of its
 * run and of its user; a resync (the listener reconnected, so notifications may have been lost) reaches all.
 *
 * The backstop: every 30 s one indexed query finds the watched runs whose `updatedAt` moved beyond what a
 * notification announced, and routes each as if announced now, so a subscriber never waits forever for a
 * state whatever happened to a notification.
 */
import type { EventSource, RunEvent, RunSignal } from '../db/events';
import { logger } from '../logger';

export type Signal = RunSignal;
type OnSignal = (signal: Signal) => void;

export interface WatchersOptions {
  /** How often the watched runs are checked for a change no notification announced (default 30 s). */
  backstopMs?: number;
}

export class Watchers {
  private readonly byRun = new Map<string, Set<OnSignal>>();
  private readonly byUser = new Map<string, Set<OnSignal>>();
  /** The newest `updatedAt` announced for each watched run that changed (as PostgreSQL formats it). */
  private readonly announced = new Map<string, string>();
  /** The database's time of the last backstop check (or of the last resync). */
  private checkedAt: Date | undefined;
  private readonly backstopTimer: NodeJS.Timeout;
  private readonly stopListening: () => void;

  constructor(
    private readonly source: EventSource,
    { backstopMs = 30_000 }: WatchersOptions = {},
  ) {
    this.stopListening = source.onRunSignal((signal) => this.received(signal));
    this.backstopTimer = setInterval(() => {
      this.backstop().catch((err: unknown) => logger.warn('backstop check of watched runs failed', { err }));
    }, backstopMs);
    this.backstopTimer.unref();
  }

  /** Calls `onSignal` for every event of one run and after every resync; returns the unwatch. */
  watchRun(runId: string, onSignal: OnSignal): () => void {
    return add(this.byRun, runId, onSignal);
  }

  /** Calls `onSignal` for every event of any of this user's runs and after every resync; returns the unwatch. */
  watchUser(userId: string, onSignal: OnSignal): () => void {
    return add(this.byUser, userId, onSignal);
  }

  stop(): void {
    clearInterval(this.backstopTimer);
    this.stopListening();
  }

  private received(signal: Signal): void {
    if (signal.kind === 'resync') {
      // Every watcher now reads its current state: the backstop needs to look only at what changes after it.
      this.checkedAt = signal.since;
      logger.info('resyncing subscriptions after the event listener reconnected', { runs: this.byRun.size, users: this.byUser.size });
      for (const set of [...this.byRun.values(), ...this.byUser.values()]) for (const onSignal of [...set]) call(onSignal, signal);
      return;
    }
    const { event } = signal;
    // Remembered only for runs someone here watches: the backstop compares nothing else.
    if (event.updatedAt && event.change !== 'deleted' && this.isWatched(event)) this.announced.set(event.runId, event.updatedAt);
    this.route(event);
  }

  private isWatched(event: RunEvent): boolean {
    return this.byRun.has(event.runId) || (event.userId !== null && this.byUser.has(event.userId));
  }

  /** An event reaches the watchers of its run and of its user. */
  private route(event: RunEvent): void {
    const signal: Signal = { kind: 'event', event };
    for (const onSignal of [...(this.byRun.get(event.runId) ?? [])]) call(onSignal, signal);
    if (event.userId) for (const onSignal of [...(this.byUser.get(event.userId) ?? [])]) call(onSignal, signal);
  }

  /**
   * One indexed query for the watched runs (and the runs of watched users) whose `updatedAt` moved since the
   * last check beyond what a notification announced: those are routed as if announced now.
   */
  private async backstop(): Promise<void> {
    const since = this.checkedAt ?? this.source.listeningSince;
    // Not listening: the resync after the reconnect covers this time.
    if (this.source.state !== 'listening' || !since) return;
    const rows = await this.source.query<{ at: Date; runs: Array<Required<Omit<RunEvent, 'userId'>> & { userId: string }> | null }>(
      `SELECT now() AS at, (SELECT json_agg(json_build_object('runId', r.id, 'userId', r."userId", 'change', 'updated',
                 'status', r.status, 'stage', r."currentStage", 'updatedAt', r."updatedAt"))
         FROM "Run" r WHERE r."updatedAt" > $1 AND (r.id = ANY($2::text[]) OR r."userId" = ANY($3::text[]))) AS runs`,
      [since, [...this.byRun.keys()], [...this.byUser.keys()]],
    );
    this.checkedAt = rows[0]!.at;
    for (const event of rows[0]!.runs ?? []) {
      const seen = this.announced.get(event.runId);
      if (seen !== undefined && seen >= event.updatedAt) continue; // same formatting: comparable as text
      logger.warn('a run changed without a notification reaching this instance; sending its state now', { runId: event.runId });
      this.announced.set(event.runId, event.updatedAt);
      this.route(event);
    }
    // Only what a later check could still compare against is kept.
    for (const runId of this.announced.keys()) if (!this.byRun.has(runId)) this.announced.delete(runId);
  }
}

function add(index: Map<string, Set<OnSignal>>, key: string, onSignal: OnSignal): () => void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(onSignal);
  return () => {
    set.delete(onSignal);
    if (set.size === 0 && index.get(key) === set) index.delete(key);
  };
}

function call(onSignal: OnSignal, signal: Signal): void {
  try {
    onSignal(signal);
  } catch (err) {
    logger.error('a run watcher failed', { err });
  }
}
