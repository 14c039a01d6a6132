/**
 * Who is watching which run on this instance: `runUpdated` subscribers watch one run, `runsUpdated` subscribers
 * every run of their user. Each run event from the listener (src/db/events.ts) reaches only the watchers of its
 * run and of its user; a resync (the listener reconnected, so notifications may have been lost) reaches all.
 *
 * The backstop: every period (SUBSCRIPTION_BACKSTOP_SECONDS) the watched runs, and the runs of watched users,
 * whose `updatedAt` moved since shortly before the last check are read in bounded chunks. A run whose change a
 * notification announced (its Run event carried that `updatedAt` or a later one) is left alone; any other is
 * routed as if announced now, once the notifications of everything the check saw have had time to arrive. So a
 * subscriber never waits forever for a state, whatever happened to a notification, and is never sent one twice
 * because of the backstop.
 */
import type { EventSource, RunEvent, RunSignal } from '../db/events';
import { logger } from '../logger';

export type Signal = RunSignal;
type OnSignal = (signal: Signal) => void;

export interface WatchersOptions {
  /** How often the watched runs are checked for a change no notification announced (default 30 s). */
  backstopMs?: number;
}

/** Watched runs (or users) per backstop query: each query and the work on its answer stay small. */
const BACKSTOP_RUNS_PER_QUERY = 1000;
const BACKSTOP_USERS_PER_QUERY = 100;
/**
 * How far before the last check a check looks again: a transaction stamps `updatedAt` when it starts, so one
 * that was still open at the last check, or a writer whose clock is slightly behind the database's, is not
 * skipped.
 */
const BACKSTOP_OVERLAP_MS = 10_000;
/** At most this long, a check waits before it calls a change unannounced: its notification may be on its way. */
const BACKSTOP_SETTLE_MS = 1000;

/** A row the backstop found changed (the shape of a Run event, so it is routed like one). */
type ChangedRun = {
  runId: string;
  userId: string;
  status: string;
  stage: number;
  /** As the triggers format it (ISO, UTC, no zone). */
  updatedAt: string;
  /** The same instant in ms since the epoch, as the database computes it. */
  updatedAtMs: number;
};

/** The newest `updatedAt` a Run event announced for a run, and when this instance received it. */
interface Announced {
  userId: string | null;
  updatedAtMs: number;
  receivedAt: number;
}

/** What one backstop query covers: watched runs (by id) or watched users, and what was announced for their runs. */
interface Chunk {
  by: 'id' | 'userId';
  keys: string[];
  announcedIds: string[];
  announcedMs: number[];
}

function addAnnounced(chunk: Chunk, runId: string, announced: Announced): void {
  chunk.announcedIds.push(runId);
  chunk.announcedMs.push(announced.updatedAtMs);
}

/** ms since the epoch of a timestamp as the triggers format it: ISO without a zone, holding UTC. */
function announcedMs(updatedAt: string): number {
  return Date.parse(`${updatedAt}Z`);
}

export class Watchers {
  private readonly byRun = new Map<string, Set<OnSignal>>();
  private readonly byUser = new Map<string, Set<OnSignal>>();
  /**
   * Every run a Run event announced lately, watched or not (a run created, then watched, was announced before
   * its watcher came), in the order received, so the oldest are pruned from the front.
   */
  private readonly announced = new Map<string, Announced>();
  /** The database's time (ms) when the last backstop check began (or of the last resync). */
  private checkedAt: number | undefined;
  private checking = false;
  private readonly backstopMs: number;
  private readonly backstopTimer: NodeJS.Timeout;
  private readonly stopListening: () => void;
  /** Backstop checks completed, and runs they routed because no notification had announced their change. */
  readonly backstopStats = { checks: 0, resent: 0 };

  constructor(
    private readonly source: EventSource,
    { backstopMs = 30_000 }: WatchersOptions = {},
  ) {
    this.backstopMs = backstopMs;
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
      this.checkedAt = signal.since.getTime();
      logger.info('resyncing subscriptions after the event listener reconnected', { runs: this.byRun.size, users: this.byUser.size });
      for (const set of [...this.byRun.values(), ...this.byUser.values()]) for (const onSignal of [...set]) call(onSignal, signal);
      return;
    }
    this.remember(signal.event);
    this.route(signal.event);
  }

  /**
   * Only Run events carry the run's own `updatedAt` (an output's event carries the output's time); the newest
   * one received counts, whatever order a transaction's events arrive in.
   */
  private remember(event: RunEvent): void {
    if (event.change === 'deleted') {
      this.announced.delete(event.runId);
      return;
    }
    if ((event.change === 'created' || event.change === 'updated') && event.updatedAt) {
      this.announce(event.runId, event.userId, announcedMs(event.updatedAt));
    }
  }

  /** Remembers `updatedAtMs` as announced for the run, unless a later time already was. */
  private announce(runId: string, userId: string | null, updatedAtMs: number): void {
    const earlier = this.announced.get(runId);
    // Deleted and set again: the map stays in the order received.
    this.announced.delete(runId);
    this.announced.set(runId, { userId, updatedAtMs: Math.max(updatedAtMs, earlier?.updatedAtMs ?? -Infinity), receivedAt: Date.now() });
    this.forgetOldAnnouncements();
  }

  /** Announcements received before any check could still return their change are dropped. */
  private forgetOldAnnouncements(): void {
    const horizon = Date.now() - 2 * (this.backstopMs + BACKSTOP_OVERLAP_MS);
    for (const [runId, { receivedAt }] of this.announced) {
      if (receivedAt >= horizon) break;
      this.announced.delete(runId);
    }
  }

  private isAnnounced(run: ChangedRun): boolean {
    return (this.announced.get(run.runId)?.updatedAtMs ?? -Infinity) >= run.updatedAtMs;
  }

  /** An event reaches the watchers of its run and of its user. */
  private route(event: RunEvent): void {
    const signal: Signal = { kind: 'event', event };
    for (const onSignal of [...(this.byRun.get(event.runId) ?? [])]) call(onSignal, signal);
    if (event.userId) for (const onSignal of [...(this.byUser.get(event.userId) ?? [])]) call(onSignal, signal);
  }

  /**
   * Reads the watched runs changed since shortly before the last check, chunk by chunk (the event loop turns
   * between chunks, and each chunk's answer is small); those no notification announced are routed once the
   * notifications of what the check saw have had time to arrive.
   */
  private async backstop(): Promise<void> {
    const listeningSince = this.source.listeningSince?.getTime();
    // Not listening: the resync after the reconnect covers this time. A check still under way: this one waits.
    if (this.checking || this.source.state !== 'listening' || listeningSince === undefined) return;
    this.checking = true;
    try {
      const since = Math.max((this.checkedAt ?? listeningSince) - BACKSTOP_OVERLAP_MS, listeningSince);
      const [{ at }] = (await this.source.query<{ at: number }>('SELECT floor(extract(epoch FROM now()) * 1000)::float8 AS at', [])) as [
        { at: number },
      ];
      const suspects: ChangedRun[] = [];
      for (const chunk of this.chunks()) suspects.push(...(await this.unannouncedChanges(since, chunk)));
      if (suspects.length) await this.settle();
      for (const run of suspects) {
        if (this.isAnnounced(run)) continue;
        logger.warn('a run changed without a notification reaching this instance; sending its state now', { runId: run.runId });
        this.backstopStats.resent++;
        const { updatedAtMs, ...event } = run;
        this.announce(run.runId, run.userId, updatedAtMs);
        this.route({ ...event, change: 'updated' });
      }
      this.checkedAt = at;
      this.backstopStats.checks++;
    } finally {
      this.checking = false;
    }
  }

  /**
   * The watched runs, then the runs of watched users, in chunks of bounded size, each with the newest
   * `updatedAt` announced for its runs.
   */
  private *chunks(): Generator<Chunk> {
    const runIds = [...this.byRun.keys()];
    for (let i = 0; i < runIds.length; i += BACKSTOP_RUNS_PER_QUERY) {
      const chunk: Chunk = { by: 'id', keys: runIds.slice(i, i + BACKSTOP_RUNS_PER_QUERY), announcedIds: [], announcedMs: [] };
      for (const runId of chunk.keys) {
        const announced = this.announced.get(runId);
        if (announced) addAnnounced(chunk, runId, announced);
      }
      yield chunk;
    }
    if (this.byUser.size === 0) return;
    // Each watched user's announced runs, gathered in one pass over the announcements.
    const announcedOf = new Map<string, Array<[string, Announced]>>();
    for (const entry of this.announced) {
      const userId = entry[1].userId;
      if (userId === null || !this.byUser.has(userId)) continue;
      const runs = announcedOf.get(userId);
      if (runs) runs.push(entry);
      else announcedOf.set(userId, [entry]);
    }
    const userIds = [...this.byUser.keys()];
    for (let i = 0; i < userIds.length; i += BACKSTOP_USERS_PER_QUERY) {
      const chunk: Chunk = { by: 'userId', keys: userIds.slice(i, i + BACKSTOP_USERS_PER_QUERY), announcedIds: [], announcedMs: [] };
      for (const userId of chunk.keys)
        for (const [runId, announced] of announcedOf.get(userId) ?? []) addAnnounced(chunk, runId, announced);
      yield chunk;
    }
  }

  /**
   * One indexed query (the primary key, or the user's runs): the chunk's runs, or its users' runs, whose
   * `updatedAt` is after `sinceMs` and after what was announced for them. Only those travel back: the answer
   * stays small however many runs changed, as long as their notifications arrived.
   */
  private unannouncedChanges(sinceMs: number, { by, keys, announcedIds, announcedMs }: Chunk): Promise<ChangedRun[]> {
    // Times travel as ms since the epoch: the columns hold UTC, whatever the session's or this process's time zone.
    return this.source.query<ChangedRun>(
      `SELECT r.id AS "runId", r."userId", r.status, r."currentStage" AS stage, to_json(r."updatedAt") #>> '{}' AS "updatedAt",
              floor(extract(epoch FROM r."updatedAt") * 1000)::float8 AS "updatedAtMs"
         FROM "Run" r
         LEFT JOIN unnest($3::text[], $4::float8[]) AS announced(id, ms) ON announced.id = r.id
        WHERE r."${by}" = ANY($2::text[])
          AND r."updatedAt" > to_timestamp($1::float8 / 1000) AT TIME ZONE 'UTC'
          AND floor(extract(epoch FROM r."updatedAt") * 1000)::float8 > coalesce(announced.ms, '-infinity')`,
      [sinceMs, keys, announcedIds, announcedMs],
    );
  }

  /**
   * Waits a moment, then makes one round trip on the listening connection: PostgreSQL sends a listener the
   * notifications it has received before the answer to its next query, so every change the check saw that was
   * announced has been received by then.
   */
  private async settle(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, Math.min(BACKSTOP_SETTLE_MS, this.backstopMs / 2)));
    await this.source.query('SELECT 1', []);
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
